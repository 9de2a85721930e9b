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
  /** How many more entries the dispatcher can start now. */
  capacity: () => number;
  /** The entry kept its slot while it waits (an ordered stream's head): it needs no room to come back. */
  holdsSlot: (entry: StreamEntry) => boolean;
  /** Hands a taken-back entry to the dispatcher for its next attempt. */
  submit: (entry: StreamEntry) => void;
  /** The entry will not come back (trimmed, claimed by another consumer, shutdown): an ordered stream goes on. */
  letGo: (entry: StreamEntry) => void;
}

/**
 * The one owner of retries, for unordered and ordered streams alike. A failed entry stays pending in Redis
 * (with its delivery count: a crash loses only the timing) and waits here for its backoff, holding no
 * concurrency slot but counting against maxWaitingRetries. When due, and only as far as the dispatcher has
 * room, entries are taken back with one XCLAIM per stream and lease (a new delivery: the count goes up),
 * guarded by min-idle so an entry another consumer claimed meanwhile is never taken from it.
 */
export class Redelivery {
  private readonly timers: RetryQueue<StreamEntry>;
  /** Due, waiting for room in the dispatcher. */
  private readonly due: StreamEntry[] = [];
  /** Due, needing no room (see holdsSlot). */
  private readonly dueWithSlot: StreamEntry[] = [];
  /** In an XCLAIM right now. */
  private takingBack = 0;
  private stopped = false;

  constructor(private readonly deps: RedeliveryDeps) {
    this.timers = new RetryQueue(entries => {
      for (const e of entries) (this.deps.holdsSlot(e) ? this.dueWithSlot : this.due).push(e);
      this.pump();
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

  schedule(entry: StreamEntry, delayMs: number): void {
    if (this.stopped) return this.deps.leases.release(entry);
    this.timers.schedule(entry, delayMs);
  }

  /** The entry's lease was lost (another consumer has it): forget its retry. */
  cancel(entry: StreamEntry): void {
    this.timers.cancel(entry);
    for (const list of [this.due, this.dueWithSlot]) {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
    }
    this.deps.letGo(entry);
  }

  /** Takes back as many due entries as the dispatcher has room for. Called when retries fall due and when room frees. */
  pump(): void {
    if (this.stopped || (this.due.length === 0 && this.dueWithSlot.length === 0)) return;
    const n = Math.min(this.due.length, this.deps.capacity() - this.takingBack);
    const picked = this.dueWithSlot.splice(0);
    if (n > 0) for (const e of this.due.splice(0, n)) picked.push(e);
    if (picked.length > 0) void this.takeBackAll(picked);
  }

  /** Forgets every waiting retry (shutdown): those entries stay pending in Redis for whoever comes next. */
  stop(): void {
    this.stopped = true;
    for (const e of this.timers.stop()) this.deps.leases.release(e);
    for (const e of this.due.splice(0)) this.deps.leases.release(e);
    for (const e of this.dueWithSlot.splice(0)) this.deps.leases.release(e);
  }

  /**
   * One XCLAIM per stream and touch time (its min-idle fits them all), once no renewal is in flight (it
   * would change the touch times the min-idle is computed from).
   */
  private async takeBackAll(entries: StreamEntry[]): Promise<void> {
    this.takingBack += entries.length;
    await this.deps.leases.whenSettled();
    this.takingBack -= entries.length;
    const groups = new Map<string, StreamEntry[]>();
    for (const entry of entries) {
      if (entry.leaseIndex < 0 || this.stopped) {
        this.deps.letGo(entry); // released meanwhile (lease lost, shutdown): nothing to take back
        continue;
      }
      const key = `${entry.stream}\u0000${entry.touchedAt}`;
      const group = groups.get(key);
      if (group) group.push(entry);
      else groups.set(key, [entry]);
    }
    for (const group of groups.values()) void this.takeBack(group);
  }

  /** One XCLAIM for entries of one stream and one touch time; each comes back to the dispatcher or is let go. */
  private async takeBack(entries: StreamEntry[]): Promise<void> {
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
      for (const e of entries) this.schedule(e, TAKE_BACK_ERROR_DELAY_MS);
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
        leases.release(e);
        if (!fields) missing.push(e);
        this.deps.letGo(e);
        continue;
      }
      e.fields = fields;
      e.deliveryCount++;
      leases.hold(e, now);
      this.deps.submit(e);
    }
    if (missing.length > 0) await this.letGo(first.stream, missing);
  }

  /** Not taken back: trimmed (reported as deleted), or another consumer has it (it handles the entry now). */
  private async letGo(stream: string, entries: StreamEntry[]): Promise<void> {
    try {
      const takenOver = await this.deps.gone.sortOut(stream, entries.map(e => e.id), 'while waiting for its retry');
      for (const id of takenOver) this.deps.logger.warn?.(`Entry ${id} of ${stream} was claimed by another consumer before its retry; it is not retried here`);
    } catch (err) {
      this.deps.logger.warn?.(`Could not check ${entries.length} entries of ${stream} that were not taken back: ${(err as Error).message}`);
    }
  }
}
