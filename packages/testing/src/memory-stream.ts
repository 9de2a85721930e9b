/** An entry as the in-memory broker stores it: the wire fields, as XADD wrote them. */
export interface StoredEntry {
  id: string;
  fields: string[];
}

/** An entry delivered to a consumer of a group and not acked yet (Redis's pending entries list). */
export interface PendingEntry {
  consumer: string;
  deliveryCount: number;
}

/** A consumer group: where it has read up to, and what it holds unacked. */
export interface MemoryGroup {
  /** Index in the stream's entries of the next entry never delivered to this group. */
  next: number;
  pending: Map<string, PendingEntry>;
}

/** One stream: its entries in id order and its groups, as XADD, XREADGROUP, XCLAIM and XACK leave them. */
export class MemoryStream {
  readonly entries: StoredEntry[] = [];
  readonly groups = new Map<string, MemoryGroup>();
  private byId = new Map<string, StoredEntry>();

  add(entry: StoredEntry): void {
    this.entries.push(entry);
    this.byId.set(entry.id, entry);
  }

  get(id: string): StoredEntry | undefined {
    return this.byId.get(id);
  }

  /** XGROUP CREATE ... MKSTREAM: `$` starts after the last entry, `0` at the first; an existing group is kept. */
  createGroup(group: string, startId: string): void {
    if (this.groups.has(group)) return;
    const next = startId === '$' ? this.entries.length : this.entries.findIndex(e => compareIds(e.id, startId) > 0);
    this.groups.set(group, { next: next < 0 ? this.entries.length : next, pending: new Map() });
  }

  /** XREADGROUP ... `>`: up to `count` entries never delivered to the group, now pending with `consumer`. */
  readNew(group: string, consumer: string, count: number): StoredEntry[] {
    const g = this.groups.get(group);
    if (!g) return [];
    const read = this.entries.slice(g.next, g.next + count);
    g.next += read.length;
    for (const e of read) g.pending.set(e.id, { consumer, deliveryCount: 1 });
    return read;
  }

  /** XCLAIM: the pending entry now belongs to `consumer`, one more delivery counted. Undefined if not pending. */
  claim(group: string, id: string, consumer: string): PendingEntry | undefined {
    const p = this.groups.get(group)?.pending.get(id);
    if (!p) return undefined;
    p.consumer = consumer;
    p.deliveryCount++;
    return p;
  }

  ack(group: string, id: string): boolean {
    return this.groups.get(group)?.pending.delete(id) ?? false;
  }
}

/** Orders two entry ids (`<ms>-<seq>`) as Redis does. */
export function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}
