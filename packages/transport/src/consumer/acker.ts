import type { Redis } from 'ioredis';
import { isNoGroup } from '../redis/replies.js';

// One XACK per stream per flush: acks of a burst share round trips instead of costing one each.
const MAX_BATCH = 1000;
const RETRY_FLUSH_MS = 500;

/**
 * Batches XACKs. Ids queued in one tick of the event loop go out in one pipelined round trip.
 * An ack that fails (connection lost) is queued again; until it lands, the entry stays pending and may be
 * claimed and handled again, which is the at-least-once promise.
 */
export class Acker {
  private queued = new Map<string, string[]>();
  private count = 0;
  private scheduled = false;
  private retryTimer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(stream: string, id: string): void {
    let ids = this.queued.get(stream);
    if (!ids) this.queued.set(stream, (ids = []));
    ids.push(id);
    this.count++;
    if (this.count >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is queued now; resolves when that round trip has settled. */
  flush(): Promise<void> {
    this.scheduled = false;
    if (this.count === 0) return Promise.all(this.inFlight).then(() => undefined);
    const batch = this.queued;
    this.queued = new Map();
    this.count = 0;
    const pipeline = this.redis.pipeline();
    for (const [stream, ids] of batch) pipeline.xack(stream, this.group, ...ids);
    const done = pipeline.exec().then(
      results => {
        const failed = results?.some(([err]) => err);
        if (failed || !results) this.requeue(batch, results?.find(([err]) => err)?.[0]);
      },
      err => this.requeue(batch, err),
    );
    const tracked = done.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return Promise.all(this.inFlight).then(() => undefined);
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private requeue(batch: Map<string, string[]>, err: unknown): void {
    this.onError(err);
    // The group (or stream) was deleted: there is no pending entry left to ack.
    if (isNoGroup(err)) return;
    for (const [stream, ids] of batch) for (const id of ids) {
      let q = this.queued.get(stream);
      if (!q) this.queued.set(stream, (q = []));
      q.push(id);
      this.count++;
    }
    if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.flush();
      }, RETRY_FLUSH_MS);
      this.retryTimer.unref();
    }
  }
}
