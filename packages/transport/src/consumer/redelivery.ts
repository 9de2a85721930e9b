import type { LoggerService } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import type { GoneEntries } from './gone-entries.js';
import type { Leases } from './leases.js';
import { RetryQueue } from './retry-queue.js';
import type { StreamEntry } from './stream-entry.js';

// After a Redis error while taking entries back for their retry, try again this much later.
const TAKE_BACK_ERROR_DELAY_MS = 1000;

export interface RedeliveryDeps {
  redis: RedisClient;
  group: string;
  consumer: string;
  leases: Leases;
  gone: GoneEntries;
  logger: LoggerService;
}

/** What one `takeDue()` took back: `taken` to run again (held, as a new delivery); `lost` will not come back (released). */
export interface TakenBack {
  taken: StreamEntry[];
  lost: StreamEntry[];
}

/**
 * The one owner of retries, for unordered and ordered streams alike. A failed entry stays pending in Redis
 * (with its delivery count: a crash loses only the timing) and waits here for its backoff, holding no
 * concurrency slot (unless scheduled with `keepsSlot`: an ordered stream's head) but counting against
 * maxWaitingRetries. Redelivery knows nothing of the dispatcher: it says when retries fall due (`onDue`), and the
 * dispatcher takes back as many as it has room for (`takeDue`): one XCLAIM per stream and lease (a new
 * delivery: the count goes up), guarded by min-idle so an entry another consumer claimed meanwhile is never
 * taken from it.
 */
export class Redelivery {
  private readonly timers: RetryQueue<StreamEntry>;
  /** Due, waiting for room in the dispatcher. */
  private readonly due: StreamEntry[] = [];
  /** Due, needing no room (they kept their slot). */
  private readonly dueWithSlot: StreamEntry[] = [];
  /** Scheduled with keepsSlot, until taken back, cancelled or stopped. */
  private readonly keepingSlot = new Set<StreamEntry>();
  /** In an XCLAIM right now. */
  private takingBack = 0;
  private stopped = false;
  private dueListener?: () => void;

  constructor(private readonly deps: RedeliveryDeps) {
    this.timers = new RetryQueue(entries => {
      for (const e of entries) (this.keepingSlot.has(e) ? this.dueWithSlot : this.due).push(e);
      this.dueListener?.();
    });
  }

  /** Entries waiting for a retry, due or not, the ones being taken back included. */
  get waiting(): number {
    return this.timers.size + this.due.length + this.dueWithSlot.length + this.takingBack;
  }

  /** Due retries are waiting for room: the reader must not take that room for new entries. */
  get hasDue(): boolean {
    return this.due.length > 0;
  }

  /** `listener` is called when retries fall due (the dispatcher then calls takeDue). */
  onDue(listener: () => void): void {
    this.dueListener = listener;
  }

  /** `keepsSlot`: the entry keeps its concurrency slot while it waits, so it needs no room to come back. */
  schedule(entry: StreamEntry, delayMs: number, keepsSlot = false): void {
    if (this.stopped) return this.deps.leases.release(entry);
    if (keepsSlot) this.keepingSlot.add(entry);
    this.timers.schedule(entry, delayMs);
  }

  /** The entry will not be retried here (its lease was lost, its ordered partition given up): forget it. */
  cancel(entry: StreamEntry): void {
    this.timers.cancel(entry);
    this.keepingSlot.delete(entry);
    for (const list of [this.due, this.dueWithSlot]) {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /**
   * Takes back the due entries that kept their slot and as many others as `room` allows, counting those
   * being taken back already. Undefined when there is nothing to take (the common case allocates nothing).
   */
  takeDue(room: number): Promise<TakenBack> | undefined {
    if (this.stopped || (this.due.length === 0 && this.dueWithSlot.length === 0)) return undefined;
    const n = Math.min(this.due.length, room - this.takingBack);
    const picked = this.dueWithSlot.splice(0);
    if (n > 0) for (const e of this.due.splice(0, n)) picked.push(e);
    return picked.length > 0 ? this.takeBackAll(picked) : undefined;
  }

  /** Forgets every waiting retry (shutdown): those entries stay pending in Redis for whoever comes next. */
  stop(): void {
    this.stopped = true;
    for (const e of this.timers.stop()) this.deps.leases.release(e);
    for (const e of this.due.splice(0)) this.deps.leases.release(e);
    for (const e of this.dueWithSlot.splice(0)) this.deps.leases.release(e);
    this.keepingSlot.clear();
  }

  /**
   * One XCLAIM per stream and touch time (its min-idle fits them all), once no renewal is in flight (it
   * would change the touch times the min-idle is computed from).
   */
  private async takeBackAll(entries: StreamEntry[]): Promise<TakenBack> {
    const back: TakenBack = { taken: [], lost: [] };
    this.takingBack += entries.length;
    await this.deps.leases.whenSettled();
    this.takingBack -= entries.length;
    const groups = new Map<string, StreamEntry[]>();
    for (const entry of entries) {
      if (entry.leaseIndex < 0 || this.stopped) {
        this.lose(entry, back); // released meanwhile (lease lost, shutdown): nothing to take back
        continue;
      }
      const key = `${entry.stream}\u0000${entry.touchedAt}`;
      const group = groups.get(key);
      if (group) group.push(entry);
      else groups.set(key, [entry]);
    }
    await Promise.all([...groups.values()].map(group => this.takeBack(group, back)));
    return back;
  }

  /** One XCLAIM for entries of one stream and one touch time; each is taken back, lost, or scheduled again after an error. */
  private async takeBack(entries: StreamEntry[], back: TakenBack): Promise<void> {
    const { redis, group, consumer, leases } = this.deps;
    const first = entries[0];
    this.takingBack += entries.length;
    let reply: Array<[string, string[] | null]>;
    try {
      reply = (await redis.xclaim(first.stream, group, consumer, leases.minIdleFor(first), ...entries.map(e => e.id))) as Array<[string, string[] | null]>;
    } catch (err) {
      this.takingBack -= entries.length;
      const what = entries.length === 1 ? `entry ${first.id}` : `${entries.length} entries`;
      this.deps.logger.warn?.(`Could not take back ${what} of ${first.stream} for a retry: ${(err as Error).message}`);
      for (const e of entries) this.schedule(e, TAKE_BACK_ERROR_DELAY_MS, this.keepingSlot.has(e));
      return;
    }
    this.takingBack -= entries.length;
    const now = Date.now();
    const taken = new Map<string, string[]>();
    for (const [id, fields] of reply ?? []) if (fields) taken.set(id, fields);
    const missing: StreamEntry[] = [];
    for (const e of entries) {
      const fields = taken.get(e.id);
      if (!fields || this.stopped) {
        this.lose(e, back);
        if (!fields) missing.push(e);
        continue;
      }
      this.keepingSlot.delete(e);
      leases.holdRedelivered(e, fields, now);
      back.taken.push(e);
    }
    if (missing.length > 0) void this.sortOut(first.stream, missing);
  }

  private lose(entry: StreamEntry, back: TakenBack): void {
    this.keepingSlot.delete(entry);
    this.deps.leases.release(entry);
    back.lost.push(entry);
  }

  /** Not taken back: trimmed (reported as deleted), or another consumer has it (it handles the entry now). */
  private async sortOut(stream: string, entries: StreamEntry[]): Promise<void> {
    try {
      const takenOver = await this.deps.gone.sortOut(stream, entries.map(e => e.id), 'while waiting for its retry');
      for (const id of takenOver) this.deps.logger.warn?.(`Entry ${id} of ${stream} was claimed by another consumer before its retry; it is not retried here`);
    } catch (err) {
      this.deps.logger.warn?.(`Could not check ${entries.length} entries of ${stream} that were not taken back: ${(err as Error).message}`);
    }
  }
}
