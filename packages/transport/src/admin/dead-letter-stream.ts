import type { RedisClient } from '../redis/redis-client.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { StreamsAdminError } from './streams-admin.error.js';

/** A source stream and its dead-letter stream, as the admin's dead-letter commands address them. */
export interface DeadLetterStream {
  /** The name the caller gave (the key without `keyPrefix`). */
  name: string;
  /** Source stream key. */
  key: string;
  /** Dead-letter stream key. */
  deadLetterKey: string;
  /** Whether the dead-letter stream exists (it is created by the first dead letter). */
  exists: boolean;
  /** Whether the source stream exists. */
  sourceExists: boolean;
}

/**
 * Finds the dead-letter stream of `name`. Fails when neither the stream nor its dead-letter stream exists
 * (a typo, most likely) or when either key holds something else than a stream.
 */
export async function findDeadLetterStream(redis: RedisClient, options: ResolvedAdminOptions, name: string): Promise<DeadLetterStream> {
  const key = options.keyPrefix + name;
  const deadLetterKey = options.deadLetterKey(key);
  const [sourceType, dlType] = await Promise.all([redis.type(key), redis.type(deadLetterKey)]);
  for (const [k, type] of [[key, sourceType], [deadLetterKey, dlType]]) {
    if (type !== 'none' && type !== 'stream') throw new StreamsAdminError('not-a-stream', `Key ${k} is a ${type}, not a stream`);
  }
  if (sourceType === 'none' && dlType === 'none') {
    throw new StreamsAdminError('unknown-stream', `Stream "${name}" does not exist, nor its dead-letter stream ${deadLetterKey}`);
  }
  return { name, key, deadLetterKey, exists: dlType === 'stream', sourceExists: sourceType === 'stream' };
}

/** The newest entry id of a stream, or null when it is empty or missing. */
export async function newestId(redis: RedisClient, key: string): Promise<string | null> {
  const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
  return last.length > 0 ? last[0][0] : null;
}

/**
 * Every entry of a stream from `start` (exclusive when prefixed with `(`) up to `end`, a page at a time,
 * so a million dead letters never sit in memory at once.
 */
export async function* pages(redis: RedisClient, key: string, end: string, pageSize: number): AsyncGenerator<Array<[string, string[]]>> {
  let start = '-';
  for (;;) {
    const page = (await redis.xrange(key, start, end, 'COUNT', pageSize)) as Array<[string, string[]]>;
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    start = `(${page[page.length - 1][0]}`;
  }
}
