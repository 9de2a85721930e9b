import type { RedisClient } from '../redis/redis-client.js';
import { isNoGroup } from '../redis/replies.js';
import { doublingDelay } from './backoff.js';

// One XACK per stream per flush: acks of a burst share round trips instead of costing one each.
const MAX_BATCH = 1000;
// A failed XACK is sent again after 500 ms, doubling while it keeps failing, up to 30 s (a lasting refusal,
// such as a missing ACL permission, is not a hot loop).
const RETRY_FLUSH_MIN_MS = 500;
const RETRY_FLUSH_MAX_MS = 30_000;

/**
 * Batches XACKs. Ids queued in one tick of the event loop go out together: one XACK per stream.
 * An ack that fails (connection lost) is queued again; until it lands, the entry stays pending and may be
 * claimed and handled again, which is the at-least-once promise.
 *
 * Ordered partitions send their acks at once instead (sendNow) and wait for them only now and then
 * (unconfirmed, whenConfirmed): see OrderedAcks.
 */
export class Acker {
  private unsent = new Map<string, string[]>();
  private count = 0;
  private scheduled = false;
  private retryTimer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();
  /** Ids sent and not answered yet, per stream. */
  private readonly sentIds = new Map<string, number>();
  /** Callers of whenConfirmed(), per stream. */
  private readonly confirmWaiters = new Map<string, Array<() => void>>();
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly group: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues an ack. After stop() it is dropped: the entry stays pending and comes back to some consumer. */
  add(stream: string, id: string): void {
    if (this.stopped) return;
    let ids = this.unsent.get(stream);
    if (!ids) this.unsent.set(stream, (ids = []));
    ids.push(id);
    this.count++;
    if (this.count >= MAX_BATCH) this.send();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.sendScheduled);
    }
  }

  /**
   * Sends the acks queued for `stream` now, not at the end of the tick: the XACK is written to the connection
   * before the caller goes on (ioredis writes a command at once on a ready connection without auto-pipelining).
   */
  sendNow(stream: string): void {
    const ids = this.unsent.get(stream);
    if (!ids) return;
    this.unsent.delete(stream);
    this.count -= ids.length;
    this.sendStream(stream, ids);
  }

  /** Acks of `stream` queued and not written yet. */
  queued(stream: string): number {
    return this.unsent.get(stream)?.length ?? 0;
  }

  /** Acks of `stream` queued or sent whose XACK has not succeeded yet (a failed one counts until it lands). */
  unconfirmed(stream: string): number {
    return this.queued(stream) + (this.sentIds.get(stream) ?? 0);
  }

  /** Resolves once every ack of `stream` queued so far has landed (or was dropped: stop(), group deleted). */
  whenConfirmed(stream: string): Promise<void> {
    if (this.stopped || this.unconfirmed(stream) === 0) return Promise.resolve();
    return new Promise(resolve => {
      const waiters = this.confirmWaiters.get(stream);
      if (waiters) waiters.push(resolve);
      else this.confirmWaiters.set(stream, [resolve]);
    });
  }

  /** Sends what is queued now; resolves when every ack sent so far has settled. */
  flush(): Promise<void> {
    this.send();
    return Promise.all(this.inFlight).then(() => undefined);
  }

  private readonly sendScheduled = (): void => {
    this.scheduled = false;
    this.send();
  };

  // One XACK per stream per tick, sent as it is: no Pipeline object, whose cost outweighs one command.
  private send(): void {
    if (this.count === 0) return;
    const batch = this.unsent;
    this.unsent = new Map();
    this.count = 0;
    for (const [stream, ids] of batch) this.sendStream(stream, ids);
  }

  private sendStream(stream: string, ids: string[]): void {
    this.sentIds.set(stream, (this.sentIds.get(stream) ?? 0) + ids.length);
    const sent: Promise<void> = this.redis.xack(stream, this.group, ...ids).then(
      () => {
        this.failures = 0;
        this.inFlight.delete(sent);
        this.answered(stream, ids.length);
      },
      err => {
        this.inFlight.delete(sent);
        this.requeue(stream, ids, err);
        this.answered(stream, ids.length);
      },
    );
    this.inFlight.add(sent);
  }

  /** `n` ids of `stream` were answered (acked, or queued again): wakes whenConfirmed() once none is left. */
  private answered(stream: string, n: number): void {
    const left = (this.sentIds.get(stream) ?? 0) - n;
    if (left > 0) this.sentIds.set(stream, left);
    else this.sentIds.delete(stream);
    if (this.confirmWaiters.size === 0 || this.unconfirmed(stream) > 0) return;
    const waiters = this.confirmWaiters.get(stream);
    this.confirmWaiters.delete(stream);
    if (waiters) for (const wake of waiters) wake();
  }

  /** No more sends: queued and failed acks are dropped (their entries stay pending). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.unsent.clear();
    this.count = 0;
    // Nothing more will land: the ordered partitions waiting for their acks stop anyway.
    for (const waiters of this.confirmWaiters.values()) for (const wake of waiters) wake();
    this.confirmWaiters.clear();
  }

  private requeue(stream: string, ids: string[], err: unknown): void {
    if (this.stopped) return;
    this.onError(err);
    // The group (or stream) was deleted: there is no pending entry left to ack.
    if (isNoGroup(err)) return;
    this.failures++;
    let q = this.unsent.get(stream);
    if (!q) this.unsent.set(stream, (q = []));
    for (const id of ids) q.push(id);
    this.count += ids.length;
    if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.send();
      }, doublingDelay(RETRY_FLUSH_MIN_MS, RETRY_FLUSH_MAX_MS, this.failures - 1));
      this.retryTimer.unref();
    }
  }
}
