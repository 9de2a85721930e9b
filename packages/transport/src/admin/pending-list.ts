import type { RedisClient } from '../redis/redis-client.js';
import { isNoGroup, type XPendingRow } from '../redis/replies.js';
import { checkEntryId } from './entry-id.js';
import { requireStream } from './stream-info.js';
import { StreamsAdminError } from './streams-admin.error.js';

export interface PendingListOptions {
  /** Only entries after this id (the `next` of the previous page). @default undefined (from the oldest) */
  after?: string;
  /** Entries per page. @default 50, at most 500 */
  count?: number;
}

/** An entry delivered to a group's consumer and not acked yet. */
export interface PendingEntry {
  id: string;
  consumer: string;
  /** Milliseconds since it was last delivered. */
  idleMs: number;
  /** Times it was delivered (a claim counts as one). */
  deliveries: number;
}

export interface PendingList {
  stream: string;
  group: string;
  /** Pending entries of the group in all. */
  total: number;
  /** Oldest first. */
  entries: PendingEntry[];
  /** Pass as `after` for the next page; null when there is none. */
  next: string | null;
}

const DEFAULT_COUNT = 50;
const MAX_COUNT = 500;

/** A page of a group's pending entries list (XPENDING with a range and COUNT: bounded, whatever its size). */
export async function readPendingList(redis: RedisClient, key: string, name: string, group: string, opts: PendingListOptions = {}): Promise<PendingList> {
  const count = opts.count ?? DEFAULT_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new StreamsAdminError('bad-option', `count must be an integer from 1 to ${MAX_COUNT}, got ${count}`);
  }
  const start = opts.after !== undefined ? `(${checkEntryId(opts.after)}` : '-';
  await requireStream(redis, key, name);
  try {
    const [summary, rows] = await Promise.all([
      redis.xpending(key, group) as Promise<[number, ...unknown[]]>,
      redis.xpending(key, group, start, '+', count + 1) as Promise<XPendingRow[]>,
    ]);
    const entries = rows.slice(0, count).map(([id, consumer, idleMs, deliveries]) => ({ id, consumer, idleMs: Number(idleMs), deliveries: Number(deliveries) }));
    return { stream: name, group, total: Number(summary[0]), entries, next: rows.length > count ? entries[entries.length - 1].id : null };
  } catch (err) {
    if (isNoGroup(err)) throw new StreamsAdminError('unknown-group', `Stream ${key} has no consumer group "${group}"`);
    throw err;
  }
}
