import type { Redis } from 'ioredis';
import type { StreamEntry } from './stream-entry.js';

// Our clock and Redis's differ by the command's travel time: claim with a little less idle than we measured.
const CLOCK_MARGIN_MS = 100;

/**
 * The entries this consumer holds (in flight or waiting for a retry), and when each was last touched.
 *
 * Another consumer's XAUTOCLAIM takes an entry idle longer than claim.minIdleMs. A long handler or a long
 * backoff would lose its entry that way, so held entries are renewed (XCLAIM ... JUSTID, which resets the
 * idle time without counting a delivery). Each XCLAIM we send carries min-idle = the time since our last
 * touch: if another consumer claimed the entry since, its idle is shorter and our XCLAIM is a no-op, so
 * we never take an entry back from whoever claimed it.
 *
 * Held entries sit in a slab (an array with a free list) and carry their slot and touch time themselves:
 * adding and dropping an entry allocates nothing. Lookups by id are only needed on the rare claim and
 * recovery paths, which scan the slab.
 */
export class Leases {
  private readonly slab: Array<StreamEntry | undefined> = [];
  private readonly free: number[] = [];
  private count = 0;

  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly consumer: string,
  ) {}

  /** A unique key for (stream, id), for callers that need one (retry queue). */
  static key(stream: string, id: string): string {
    return `${stream}\u0000${id}`;
  }

  /** Holds the entry (or touches it again if held). */
  add(entry: StreamEntry, now = Date.now()): void {
    entry.touchedAt = now;
    if (entry.leaseSlot >= 0) return;
    const slot = this.free.length > 0 ? this.free.pop()! : this.slab.length;
    this.slab[slot] = entry;
    entry.leaseSlot = slot;
    this.count++;
  }

  delete(entry: StreamEntry): void {
    const slot = entry.leaseSlot;
    if (slot < 0 || this.slab[slot] !== entry) return;
    this.slab[slot] = undefined;
    this.free.push(slot);
    entry.leaseSlot = -1;
    this.count--;
  }

  /** The ids of `stream` held now. */
  heldIds(stream: string): Set<string> {
    const ids = new Set<string>();
    for (const e of this.slab) if (e && e.stream === stream) ids.add(e.id);
    return ids;
  }

  get size(): number {
    return this.count;
  }

  /** min-idle for an XCLAIM that must only succeed if nobody touched the entry since we did. */
  private minIdleFor(entry: StreamEntry, now = Date.now()): number {
    return entry.leaseSlot >= 0 ? Math.max(0, now - entry.touchedAt - CLOCK_MARGIN_MS) : 0;
  }

  /**
   * Takes the entry again (XCLAIM, counting a delivery) for a retry. Returns its fields, or undefined
   * if it is gone: acked, trimmed, or claimed by another consumer meanwhile.
   */
  async reclaim(entry: StreamEntry): Promise<string[] | undefined> {
    return (await this.reclaimMany([entry])).get(entry.id);
  }

  /**
   * reclaim() for entries of one stream with the same lease (same touch time, held or not): one XCLAIM,
   * whose min-idle fits them all. Returns the fields of those taken back; the others are forgotten.
   */
  async reclaimMany(entries: StreamEntry[]): Promise<Map<string, string[]>> {
    const first = entries[0];
    const minIdle = this.minIdleFor(first);
    const ids = entries.map(e => e.id);
    const reply = (await this.redis.xclaim(first.stream, this.group, this.consumer, minIdle, ...ids)) as [string, string[] | null][];
    const taken = new Map<string, string[]>();
    for (const [id, fields] of reply ?? []) if (fields) taken.set(id, fields);
    const now = Date.now();
    for (const e of entries) {
      if (taken.has(e.id)) this.add(e, now);
      else this.delete(e);
    }
    return taken;
  }

  /** Entries that can share one reclaimMany(): same stream, same lease. */
  static reclaimGroup(entry: StreamEntry): string {
    return `${entry.stream}\u0000${entry.leaseSlot >= 0 ? entry.touchedAt : 'free'}`;
  }

  /**
   * Renews every lease older than `olderThanMs`. Returns the entries found lost (another consumer has
   * them now, or they no longer exist); they are forgotten.
   */
  async renew(olderThanMs: number): Promise<StreamEntry[]> {
    const now = Date.now();
    const due: Array<{ entry: StreamEntry; touchedAt: number }> = [];
    for (const entry of this.slab) if (entry && now - entry.touchedAt >= olderThanMs) due.push({ entry, touchedAt: entry.touchedAt });
    if (due.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { entry, touchedAt } of due) {
      pipeline.xclaim(entry.stream, this.group, this.consumer, Math.max(0, now - touchedAt - CLOCK_MARGIN_MS), entry.id, 'JUSTID');
    }
    const results = (await pipeline.exec()) ?? [];
    const lost: StreamEntry[] = [];
    due.forEach(({ entry, touchedAt }, i) => {
      const [err, ids] = results[i] ?? [new Error('no reply')];
      if (err) return; // try again next round
      if (entry.leaseSlot < 0 || entry.touchedAt !== touchedAt) return; // settled or touched meanwhile
      if (Array.isArray(ids) && ids.length > 0) entry.touchedAt = now;
      else {
        this.delete(entry);
        lost.push(entry);
      }
    });
    return lost;
  }
}
