import type { LoggerService } from '@nestjs/common';
import type { EntryProcessor, Route } from './entry-processor.js';
import type { StreamEntry } from './stream-entry.js';
import { Leases } from './leases.js';
import { RetryQueue } from './retry-queue.js';
import type { Slots } from './slots.js';

// After a Redis error while taking an entry back for its retry, try again this much later.
const RECLAIM_ERROR_DELAY_MS = 1000;

/**
 * Hands entries to the processor within the concurrency slots, keeps ordered streams one at a time,
 * and brings failed entries back after their backoff. Every dispatched entry holds one slot until settled.
 */
export class Dispatcher {
  private readonly ordered = new Map<string, StreamEntry[]>();
  private readonly retries: RetryQueue<StreamEntry>;
  private readonly stopping = new AbortController();
  /** Entries dispatched and not yet settled (the slots reserved for a read in progress are not counted). */
  private active = 0;

  constructor(
    private readonly routes: Map<string, Route>,
    private readonly processor: EntryProcessor,
    private readonly slots: Slots,
    private readonly leases: Leases,
    private readonly logger: LoggerService,
  ) {
    this.retries = new RetryQueue(entries => this.retryDue(entries));
  }

  /** The entry must already hold a slot; it is released when the entry is settled or scheduled for retry. */
  dispatch(entry: StreamEntry): void {
    this.dispatchMany([entry]);
  }

  /** Each entry must hold a slot. Entries of a batch handler's stream go to it together, in one call. */
  dispatchMany(entries: StreamEntry[]): void {
    let batches: Map<Route, StreamEntry[]> | undefined;
    for (const entry of entries) {
      this.active++;
      const route = this.routes.get(entry.stream);
      if (!route) {
        // Cannot happen: only streams with a handler are read. Leave it pending rather than lose it.
        this.logger.error(`No handler for stream ${entry.stream}; entry ${entry.id} left pending`);
        this.leases.delete(entry);
        this.done();
      } else if (route.batch) {
        batches ??= new Map();
        const batch = batches.get(route);
        if (batch) batch.push(entry);
        else batches.set(route, [entry]);
      } else if (!route.ordered) {
        void this.runOnce(route, entry);
      } else {
        const queue = this.ordered.get(entry.stream);
        if (queue) queue.push(entry);
        else {
          this.ordered.set(entry.stream, [entry]);
          void this.runOrdered(route);
        }
      }
    }
    if (batches) for (const [route, batch] of batches) void this.runBatch(route, batch);
  }

  /** Forget a scheduled retry (the entry was claimed by another consumer). */
  cancelRetry(stream: string, id: string): void {
    this.retries.cancel(Leases.key(stream, id));
  }

  get inFlight(): number {
    return this.active;
  }

  get scheduledRetries(): number {
    return this.retries.size;
  }

  /** Stops retry timers and ordered backoff waits; those entries stay pending in Redis for whoever comes next. */
  stop(): void {
    this.stopping.abort();
    this.retries.stop();
  }

  private async runBatch(route: Route, entries: StreamEntry[]): Promise<void> {
    try {
      const outcomes = await this.processor.processBatch(route, entries);
      outcomes.forEach((outcome, i) => {
        const entry = entries[i];
        if (outcome.retryInMs !== undefined) this.retries.schedule(Leases.key(entry.stream, entry.id), outcome.retryInMs, entry);
      });
    } catch (err) {
      for (const entry of entries) this.settleFailed(entry, err);
    } finally {
      this.done(entries.length);
    }
  }

  private async runOnce(route: Route, entry: StreamEntry): Promise<void> {
    if (route.batch) return this.runBatch(route, [entry]);
    try {
      const outcome = await this.processor.process(route, entry);
      if (outcome.retryInMs !== undefined) this.retries.schedule(Leases.key(entry.stream, entry.id), outcome.retryInMs, entry);
    } catch (err) {
      this.settleFailed(entry, err);
    } finally {
      this.done();
    }
  }

  private async runOrdered(route: Route): Promise<void> {
    const queue = this.ordered.get(route.stream)!;
    while (queue.length > 0) {
      let entry: StreamEntry | undefined = queue[0];
      try {
        while (entry) {
          const outcome = await this.processor.process(route, entry);
          if (outcome.retryInMs === undefined) break;
          // In order means the next entry waits until this one succeeds or is dead-lettered.
          if (!(await this.sleep(outcome.retryInMs))) return this.abandonOrdered(route.stream, queue);
          entry = await this.takeBack(entry);
        }
      } catch (err) {
        // Running the next entry now would break the order: leave this one and the rest pending.
        this.settleFailed(entry!, err);
        return this.abandonOrdered(route.stream, queue);
      }
      queue.shift();
      this.done();
    }
    this.ordered.delete(route.stream);
  }

  /** Leaves every queued entry of an ordered stream pending (shutdown or Redis error) and frees their slots. */
  private abandonOrdered(stream: string, queue: StreamEntry[]): void {
    for (const e of queue) this.leases.delete(e);
    this.done(queue.length);
    queue.length = 0;
    this.ordered.delete(stream);
  }

  /**
   * Retries now due: those that find a free slot are taken back together (one XCLAIM per stream and lease,
   * not one per entry), then run one by one; the others wait for a slot each.
   */
  private retryDue(entries: StreamEntry[]): void {
    if (this.stopping.signal.aborted) return;
    const n = this.slots.take(entries.length);
    const groups = new Map<string, StreamEntry[]>();
    for (let i = 0; i < n; i++) {
      const key = Leases.reclaimGroup(entries[i]);
      const group = groups.get(key);
      if (group) group.push(entries[i]);
      else groups.set(key, [entries[i]]);
    }
    for (const group of groups.values()) void this.takeBackGroup(group);
    for (let i = n; i < entries.length; i++) void this.retry(entries[i]);
  }

  /** Each entry holds a slot: dispatched if taken back, released if gone, rescheduled on a Redis error. */
  private async takeBackGroup(entries: StreamEntry[]): Promise<void> {
    let taken: Map<string, string[]>;
    try {
      taken = await this.leases.reclaimMany(entries);
    } catch (err) {
      this.slots.release(entries.length);
      const what = entries.length === 1 ? `entry ${entries[0].id}` : `${entries.length} entries`;
      this.logger.warn?.(`Could not take back ${what} of ${entries[0].stream} for a retry: ${(err as Error).message}`);
      for (const e of entries) this.retries.schedule(Leases.key(e.stream, e.id), RECLAIM_ERROR_DELAY_MS, e);
      return;
    }
    for (const e of entries) {
      const fields = taken.get(e.id);
      if (!fields) {
        this.slots.release();
        continue;
      }
      e.fields = fields;
      e.deliveryCount++;
      // One by one, also for a batch handler: a poison entry retried with others would fail them again.
      this.dispatch(e);
    }
  }

  /** One due retry that found no free slot: waits for one, then takes the entry back alone. */
  private async retry(entry: StreamEntry): Promise<void> {
    if (this.stopping.signal.aborted) return;
    while (this.slots.take(1) === 0) {
      await this.slots.whenFree();
      if (this.stopping.signal.aborted) return;
    }
    await this.takeBackGroup([entry]);
  }

  /** XCLAIM the entry again (a new delivery), unless it is gone or another consumer has it now. */
  private async takeBack(entry: StreamEntry): Promise<StreamEntry | undefined> {
    const fields = await this.leases.reclaim(entry);
    if (!fields) return undefined;
    entry.fields = fields;
    entry.deliveryCount++;
    return entry;
  }

  private done(n = 1): void {
    this.active -= n;
    this.slots.release(n);
  }

  /** Settling failed (Redis unreachable): the entry stays pending and the claim loop brings it back. */
  private settleFailed(entry: StreamEntry, err: unknown): void {
    this.leases.delete(entry);
    this.logger.error(`Could not settle entry ${entry.id} of ${entry.stream}, it stays pending: ${(err as Error)?.message ?? err}`);
  }

  private sleep(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
