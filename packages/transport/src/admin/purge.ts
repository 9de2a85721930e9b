import type { RedisClient } from '../redis/redis-client.js';
import { DEAD_LETTER_FIELDS } from '../consumer/dead-letter.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { findDeadLetterStream, newestId, pages } from './dead-letter-stream.js';
import { checkEntryId, compareEntryIds, nextEntryId } from './entry-id.js';

/** Which dead letters a purge deletes. */
export interface PurgeOptions {
  /** Only those dead-lettered longer ago than this. @default undefined (any age) */
  olderThanMs?: number;
  /** Only those with this `dlq.reason`. @default undefined (any) */
  reason?: string;
  /**
   * Only up to this dead-letter id: pass `count()`'s `upTo`, so what an operator confirmed is what is
   * deleted, not dead letters that arrived since. @default the newest dead letter when the purge starts
   */
  upTo?: string;
  /** Reference time for `olderThanMs` (ms since the epoch). @default Date.now() */
  now?: number;
}

export interface PurgeCount {
  stream: string;
  deadLetterKey: string;
  /** Dead letters that match. */
  count: number;
  /** The newest dead-letter id the count covered (null when there were none): give it to purge(). */
  upTo: string | null;
}

export interface PurgeResult {
  stream: string;
  deadLetterKey: string;
  deleted: number;
}

const PAGE_SIZE = 1000;

/** Counts the dead letters a purge with the same options would delete. */
export async function countForPurge(redis: RedisClient, options: ResolvedAdminOptions, name: string, opts: PurgeOptions): Promise<PurgeCount> {
  const target = await findDeadLetterStream(redis, options, name);
  const result = { stream: name, deadLetterKey: target.deadLetterKey, count: 0, upTo: null as string | null };
  if (!target.exists) return result;
  const end = await endOf(redis, target.deadLetterKey, opts);
  if (end === null) return result;
  result.upTo = end;
  for await (const page of pages(redis, target.deadLetterKey, end, PAGE_SIZE)) {
    result.count += opts.reason === undefined ? page.length : page.filter(([, f]) => reasonOf(f) === opts.reason).length;
  }
  return result;
}

/** Deletes dead letters for good (XTRIM MINID, or XDEL of those with the reason asked for). */
export async function purge(redis: RedisClient, options: ResolvedAdminOptions, name: string, opts: PurgeOptions): Promise<PurgeResult> {
  const target = await findDeadLetterStream(redis, options, name);
  const result = { stream: name, deadLetterKey: target.deadLetterKey, deleted: 0 };
  if (!target.exists) return result;
  const end = await endOf(redis, target.deadLetterKey, opts);
  if (end === null) return result;
  if (opts.reason === undefined) {
    // Entries are in id order, so "every entry up to `end`" is a trim: one command, whatever the size.
    result.deleted = Number(await redis.xtrim(target.deadLetterKey, 'MINID', nextEntryId(end)));
    return result;
  }
  for await (const page of pages(redis, target.deadLetterKey, end, PAGE_SIZE)) {
    const ids = page.filter(([, f]) => reasonOf(f) === opts.reason).map(([id]) => id);
    if (ids.length > 0) result.deleted += Number(await redis.xdel(target.deadLetterKey, ...ids));
  }
  return result;
}

/** The newest dead-letter id a purge covers: the newest one, or `upTo`, or the last older than the age limit. */
async function endOf(redis: RedisClient, key: string, opts: PurgeOptions): Promise<string | null> {
  let end = opts.upTo !== undefined ? checkEntryId(opts.upTo) : await newestId(redis, key);
  if (end === null) return null;
  if (opts.olderThanMs !== undefined) {
    const cutoff = (opts.now ?? Date.now()) - opts.olderThanMs;
    if (cutoff < 1) return null;
    // Ids are `<ms>-<seq>`: the last id of the millisecond before the cutoff bounds "older than".
    const before = (await redis.xrevrange(key, `${cutoff - 1}-18446744073709551615`, '-', 'COUNT', 1)) as Array<[string, string[]]>;
    if (before.length === 0) return null;
    if (compareEntryIds(before[0][0], end) < 0) end = before[0][0];
  }
  return end;
}

function reasonOf(flat: string[]): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === DEAD_LETTER_FIELDS.reason) return flat[i + 1];
  return undefined;
}
