import { boolean, checkOptions, nested, positiveInt, type OptionTable } from './checks.js';
import { partitionCount } from './partition-count.js';
import { rateLimitOption, type RateLimitOptions } from './rate-limit.js';
import { retentionOption, type RetentionOptions } from './retention.js';
import { RETRY_OPTIONS, type RetryOptions } from './retry.js';

/** Per-handler overrides, passed as `@EventPattern(pattern, extras)`. */
export interface RedisStreamsHandlerExtras {
  retry?: RetryOptions;
  /** Run this stream's entries one at a time, in stream order, retries included. @default false */
  ordered?: boolean;
  /** The handler gets an array of payloads (up to the entries read at once) and a RedisStreamBatchContext. @default false */
  batch?: boolean;
  /**
   * Spread the pattern over this many streams, `<pattern>:{0}` .. `<pattern>:{n-1}` (1 to 1024), recorded in Redis
   * at listen() so producers route without configuration (by the record's partition key, else round-robin).
   * With `ordered`, each partition is run by one consumer of the group at a time. Events only. @default undefined (one stream)
   */
  partitions?: number;
  /**
   * Ordered partitions only: how many finished entries of a partition may have their XACKs written together.
   * 1 writes each entry's XACK before the partition's next entry runs: a SIGKILL re-runs at most the entry that
   * was running. n (up to 1000) writes them n at a time (or at the end of the event loop's turn, if sooner),
   * for throughput with fast handlers: a SIGKILL can re-run up to n entries of each partition the consumer
   * owned, in their order, before any later entry. @default 1
   */
  ackBatch?: number;
  /** This pattern's retention, key by key over the server's `retention`; `false` turns it off here. @default the server's */
  retention?: RetentionOptions | false;
  /**
   * At most `max` runs of this handler per `perMs`, across every consumer of the group (a token bucket in Redis).
   * Events only, not with `batch`. @default undefined (no limit)
   */
  rateLimit?: RateLimitOptions;
}

const HANDLER_EXTRAS: OptionTable<RedisStreamsHandlerExtras> = {
  retry: nested(RETRY_OPTIONS),
  ordered: boolean,
  batch: boolean,
  partitions: partitionCount,
  ackBatch: positiveInt,
  retention: retentionOption,
  rateLimit: rateLimitOption,
};

/**
 * Checks the extras of `@EventPattern(pattern, extras)` / `@MessagePattern(pattern, extras)`: a misspelt
 * key (`{ retyr: ... }`) is an error at listen(), not a silently ignored setting. `where` names the handler.
 */
export function checkHandlerExtras(extras: unknown, where: string): RedisStreamsHandlerExtras {
  if (extras === undefined || extras === null) return {};
  checkOptions(HANDLER_EXTRAS, extras, `${where} extras`);
  return extras as RedisStreamsHandlerExtras;
}
