import type { RedisClient } from '../redis/redis-client.js';
import type { DeadLetterKeys } from '../options/dead-letter.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { DecodeError } from '../errors/decode.error.js';
import { runScript, scriptPermissionError } from '../redis/lua.js';
import { DEAD_LETTER_FIELDS } from './dead-letter.js';
import type { AttemptResult } from './attempt-result.js';

/**
 * XREADGROUP's reply shape: per stream, its entries. From the size guard, an entry it dead-lettered inside
 * Redis comes without its fields (null) and with why (`oversized`).
 */
export type XReadGroupReply = Array<[stream: string, entries: Array<[id: string, fields: string[] | null, oversized?: string]>]> | null;

type ScriptReply = [entries: Array<[id: string, fields: string[]]>, oversized: Array<[id: string, message: string]>, full: number];

export interface SizeGuardDeps {
  /** The commands connection, where the script runs unless take() is given another (the reader's, behind a blocking read). */
  redis: RedisClient;
  options: Pick<ResolvedServerOptions, 'group' | 'consumer' | 'maxPayloadBytes' | 'deadLetter'>;
  streams: string[];
  /** Where each stream's oversized entries go (none with `deadLetter: false`: they are only acked). */
  deadLetterKeys: DeadLetterKeys;
}

/**
 * Bounds what a read holds (`boundedReads`) by maxPayloadBytes. A plain XREADGROUP takes COUNT whole entries,
 * whatever their size (100 entries of 5 MB are 500 MB in the consumer before any check). Instead, entries
 * waiting are read by a script (read-within-size-2.lua) that dead-letters the oversized ones inside Redis,
 * keeping a prefix of each long value, so only entries within the limit reach this process: at most
 * count x streams x maxPayloadBytes per read. The ones it dead-lettered come back without their values, and
 * are submitted like the others, screened as rejected (`decode`, already moved, see `movedOversized()`): the
 * policy and the settler report them like every other dead letter. When nothing is waiting, the reader
 * blocks with COUNT 1 per stream (`blockingCount`): the entry that ends the wait is read whatever its size (an
 * oversized one is dead-lettered when decoded, keeping a prefix too), and the script runs right behind that
 * blocking read on the reader's connection, taking what else is waiting by then in the same round trip. Costs
 * one script call per read; with nothing waiting, one script call more (on the server, no round trip) per wait.
 */
export class SizeGuard {
  /** COUNT of the blocking read that waits for new entries: the one entry per stream the bound allows. */
  readonly blockingCount = 1;

  constructor(private readonly deps: SizeGuardDeps) {}

  /**
   * Takes up to `count` waiting entries of each stream (`streams`: those the reader reads now) for this
   * consumer, all within maxPayloadBytes, after the ones the script dead-lettered (without their fields).
   * Returns null when no entry was waiting (then wait with a blocking read of `blockingCount`). `via`: the
   * connection to run on (the commands connection; the reader's, to run right behind its blocking read).
   */
  async take(count: number, streams = this.deps.streams, via: RedisClient = this.deps.redis): Promise<XReadGroupReply> {
    const replies = await Promise.all(streams.map(stream => this.takeFrom(stream, count, via)));
    const reply: NonNullable<XReadGroupReply> = [];
    let full = false;
    for (let i = 0; i < streams.length; i++) {
      const [entries, oversized, more] = replies[i];
      if (oversized.length > 0) reply.push([streams[i], [...oversized.map(([id, message]): [string, null, string] => [id, null, message]), ...entries]]);
      else if (entries.length > 0) reply.push([streams[i], entries]);
      if (more === 1) full = true;
    }
    return reply.length > 0 || full ? reply : null;
  }

  private takeFrom(stream: string, count: number, redis: RedisClient): Promise<ScriptReply> {
    const { options, deadLetterKeys } = this.deps;
    const f = DEAD_LETTER_FIELDS;
    const dlq = deadLetterKeys.get(stream);
    return runScript<ScriptReply>(redis, 'readWithinSize', [stream, dlq ?? stream], [
      options.group,
      options.consumer,
      count,
      options.maxPayloadBytes,
      options.deadLetter === false ? 0 : options.deadLetter.oversizedPrefixBytes,
      (options.deadLetter !== false && options.deadLetter.maxLen) || '',
      dlq === undefined ? '0' : '1',
      f.id,
      f.errorMessage,
      f.stream, stream,
      f.group, options.group,
      f.consumer, options.consumer,
      f.attempts, '1',
      f.reason, 'decode',
      f.errorName, 'DecodeError',
      f.failedAt, new Date().toISOString(),
    ]).catch(err => Promise.reject(scriptPermissionError(err)));
  }
}

/**
 * What the attempt of an entry the read script dead-lettered returns: rejected (`decode`), moved already (not
 * held: nothing is pending any more), so the policy and the settler only report it.
 */
export function movedOversized(message: string): AttemptResult {
  return { kind: 'rejected', reason: 'decode', error: new DecodeError(message), moved: true };
}
