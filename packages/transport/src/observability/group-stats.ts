import { pipelineBySlot, type PipelineReplies } from '../redis/redis-client.js';
import type { WatchedConsumer } from './instrumentation.js';

/** What XINFO GROUPS / XLEN said about a consumer's streams, at one time. */
export interface GroupSnapshot {
  /** [stream, group, entries read and not acked] */
  pending: Array<[string, string, number]>;
  /** [stream, group, entries not read yet]; left out where Redis does not know it (lag is null after XGROUP SETID, deletions) */
  lag: Array<[string, string, number]>;
  /** [stream, XLEN] */
  length: Array<[string, number]>;
  /** [source stream, XLEN of its dead-letter stream] */
  deadLetters: Array<[string, number]>;
}

const EMPTY: GroupSnapshot = { pending: [], lag: [], length: [], deadLetters: [] };

/**
 * Reads a consumer's gauges from Redis at most once per `refreshMs`, whatever the scrape rate, and never
 * makes a scrape wait longer than `timeoutMs`: a slow or unreachable Redis gives the last values (a refresh
 * still in flight is not started again). Scrapes, not events, drive it: nothing runs between scrapes.
 */
export class GroupStats {
  private last: GroupSnapshot = EMPTY;
  private refreshedAt = -Infinity;
  private refreshing?: Promise<void>;
  /** When waiters stop waiting for the refresh in flight: shared, so a scrape's gauges wait once in all. */
  private waitUntil = 0;

  constructor(
    private readonly consumer: WatchedConsumer,
    private readonly refreshMs: number,
    private readonly timeoutMs: number,
  ) {}

  async read(): Promise<GroupSnapshot> {
    const now = Date.now();
    if (!this.refreshing && now - this.refreshedAt >= this.refreshMs && this.consumer.redis.status === 'ready') {
      this.refreshedAt = now;
      this.waitUntil = now + this.timeoutMs;
      this.refreshing = this.refresh().finally(() => (this.refreshing = undefined));
    }
    if (this.refreshing) await within(this.refreshing, this.waitUntil - now);
    return this.last;
  }

  private async refresh(): Promise<void> {
    const { redis, group, streams, deadLetterKeys } = this.consumer;
    let replies: PipelineReplies[];
    try {
      // A stream and its dead-letter stream share a slot (listen() checks it on a cluster).
      replies = await pipelineBySlot(redis, streams, stream => stream, (pipeline, stream) => {
        pipeline.xinfo('GROUPS', stream);
        pipeline.xlen(stream);
        const deadLetterKey = deadLetterKeys.get(stream);
        if (deadLetterKey !== undefined) pipeline.xlen(deadLetterKey);
      });
    } catch {
      return; // connection lost: keep the last values
    }
    const next: GroupSnapshot = { pending: [], lag: [], length: [], deadLetters: [] };
    for (const [i, stream] of streams.entries()) {
      const reply = replies[i];
      let k = 0;
      // A failed command (the stream was deleted: "no such key") leaves its series out until it is back.
      const [groupsErr, groups] = reply[k++] ?? [new Error('no reply')];
      const [lengthErr, length] = reply[k++] ?? [new Error('no reply')];
      if (!groupsErr) {
        const mine = (groups as unknown[][]).map(fieldsOf).find(g => g.name === group);
        if (mine) {
          next.pending.push([stream, group, Number(mine.pending)]);
          if (mine.lag !== null && mine.lag !== undefined) next.lag.push([stream, group, Number(mine.lag)]);
        }
      }
      if (!lengthErr) next.length.push([stream, Number(length)]);
      if (deadLetterKeys.has(stream)) {
        const [dlqErr, dlqLength] = reply[k++] ?? [new Error('no reply')];
        if (!dlqErr) next.deadLetters.push([stream, Number(dlqLength)]);
      }
    }
    this.last = next;
  }
}

/** XINFO GROUPS gives each group as a flat [name, value, name, value, ...] list. */
function fieldsOf(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/** Waits for `promise` at most `ms` (it keeps running); never rejects. */
function within(promise: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise(resolve => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}
