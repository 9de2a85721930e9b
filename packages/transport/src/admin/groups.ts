import type { RedisClient } from '../redis/redis-client.js';
import { isBusyGroup } from '../redis/replies.js';
import { StreamKeys } from '../keys.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { checkEntryId, compareEntryIds } from './entry-id.js';
import { parseConsumers, parseGroups, parseStreamInfo, requireStream, type ConsumerInfo } from './stream-info.js';
import { StreamsAdminError } from './streams-admin.error.js';

/**
 * Where a group's next read starts: entries with this id or later are delivered (again). An entry id
 * (`1718000000000-0`), a `Date` (entries added at that time or later), `'start'` (the whole stream) or
 * `'end'` (only entries added from now on).
 */
export type GroupPosition = string | Date | 'start' | 'end';

export interface ResetGroupOptions {
  /** Where the group's next read starts (inclusive). */
  to: GroupPosition;
  /** Count and report, change nothing. @default false */
  dryRun?: boolean;
  /** Consumers of the group seen by Redis within this many ms are reported as live. @default 60000 */
  liveWithinMs?: number;
}

export interface CreateGroupOptions {
  /** Where the new group's first read starts (inclusive). @default 'end' */
  from?: GroupPosition;
  /** Count and report, change nothing. @default false */
  dryRun?: boolean;
}

/** What a reset or create did (or, in a dry run, would do) to one stream: one per partition of a partitioned pattern. */
export interface GroupMove {
  /** The Redis key. */
  key: string;
  /** The group's last-delivered id before, or null for a new group. */
  fromId: string | null;
  /** The group's last-delivered id after: entries after it are delivered. */
  toId: string;
  /** Entries the group's position had passed (delivered, or skipped by an earlier reset) that it will be given again (a rewind). */
  redelivered: number;
  /** Entries the group had not been given yet that it will now never be given (a skip forward). */
  skipped: number;
  /** Entries the group will be given from the new position on (its lag after the move). */
  toDeliver: number;
  /** True when a count stopped at `COUNT_LIMIT`: the real number is at least the one given. */
  countsCapped: boolean;
  /** Entries pending in the group (delivered, not acked): a reset leaves them where they are. */
  pending: number;
}

export interface GroupMoveResult {
  stream: string;
  group: string;
  dryRun: boolean;
  /** One per stream moved: the stream itself, or every partition of a partitioned pattern. */
  moves: GroupMove[];
  /** Consumers of the group Redis saw within `liveWithinMs`: they read from the new position at their next read. */
  liveConsumers: Array<ConsumerInfo & { key: string }>;
}

/** Counting entries between two ids reads them: stop after this many and say so, so a huge stream stays cheap. */
export const COUNT_LIMIT = 100_000;
// Small pages: XRANGE returns whole entries, and payloads may be large.
const COUNT_PAGE = 200;
const DEFAULT_LIVE_WITHIN_MS = 60_000;
const MAX_SEQUENCE = '18446744073709551615';

/** `XGROUP SETID` for an operator: rewind a group to re-run history, or skip it forward; partitions included. */
export async function resetGroup(
  redis: RedisClient,
  options: ResolvedAdminOptions,
  stream: string,
  group: string,
  opts: ResetGroupOptions,
): Promise<GroupMoveResult> {
  if (!opts || opts.to === undefined) throw new StreamsAdminError('bad-option', 'to is required: an entry id, a Date, "start" or "end"');
  const liveWithinMs = opts.liveWithinMs ?? DEFAULT_LIVE_WITHIN_MS;
  const result: GroupMoveResult = { stream, group, dryRun: !!opts.dryRun, moves: [], liveConsumers: [] };
  const keys = await streamKeys(redis, options, stream);
  for (const key of keys) {
    const info = parseStreamInfo((await redis.xinfo('STREAM', key)) as unknown[]);
    const row = parseGroups((await redis.xinfo('GROUPS', key)) as unknown[][]).find(g => g.name === group);
    if (!row) throw new StreamsAdminError('unknown-group', `Stream ${key} has no consumer group "${group}"`);
    const toId = lastSeenBefore(opts.to, info.lastGeneratedId);
    const move = await countMove(redis, key, row.lastDeliveredId, toId, row.pending);
    if (!opts.dryRun) await redis.xgroup('SETID', key, group, toId);
    result.moves.push(move);
    const consumers = parseConsumers((await redis.xinfo('CONSUMERS', key, group)) as unknown[][]);
    for (const c of consumers) if (c.idleMs < liveWithinMs) result.liveConsumers.push({ ...c, key });
  }
  return result;
}

/** `XGROUP CREATE` for an operator: a new group that starts at a point in history; partitions included. */
export async function createGroup(
  redis: RedisClient,
  options: ResolvedAdminOptions,
  stream: string,
  group: string,
  opts: CreateGroupOptions = {},
): Promise<GroupMoveResult> {
  const result: GroupMoveResult = { stream, group, dryRun: !!opts.dryRun, moves: [], liveConsumers: [] };
  const keys = await streamKeys(redis, options, stream);
  for (const key of keys) {
    const groups = parseGroups((await redis.xinfo('GROUPS', key)) as unknown[][]);
    if (groups.some(g => g.name === group)) throw new StreamsAdminError('group-exists', `Stream ${key} already has a consumer group "${group}": reset it instead`);
    const info = parseStreamInfo((await redis.xinfo('STREAM', key)) as unknown[]);
    const toId = lastSeenBefore(opts.from ?? 'end', info.lastGeneratedId);
    const move = { ...(await countMove(redis, key, toId, toId, 0)), fromId: null };
    result.moves.push(move);
  }
  if (opts.dryRun) return result;
  for (const move of result.moves) {
    try {
      await redis.xgroup('CREATE', move.key, group, move.toId);
    } catch (err) {
      // Created by someone else since the check above: theirs stands, and the operator hears of it.
      if (isBusyGroup(err)) throw new StreamsAdminError('group-exists', `Stream ${move.key} already has a consumer group "${group}" (created meanwhile)`);
      throw err;
    }
  }
  return result;
}

/**
 * The streams of a name: the stream itself, or every partition when a partition count is recorded for it.
 * Fails with a clear error when neither exists.
 */
async function streamKeys(redis: RedisClient, options: ResolvedAdminOptions, stream: string): Promise<string[]> {
  const keys = new StreamKeys(options.keyPrefix);
  const count = await redis.get(keys.partitionCount(stream));
  const found = count !== null && Number(count) > 0 ? keys.partitions(stream, Number(count)) : [keys.stream(stream)];
  for (const key of found) await requireStream(redis, key, stream);
  return found;
}

/** The id a group's last-delivered id must be set to so that its next read starts at `position`. */
export function lastSeenBefore(position: GroupPosition, lastGeneratedId: string): string {
  if (position === 'start') return '0-0';
  if (position === 'end') return lastGeneratedId;
  if (position instanceof Date) {
    const ms = position.getTime();
    if (!Number.isFinite(ms) || ms < 0) throw new StreamsAdminError('bad-option', `Bad date: ${String(position)}`);
    return ms === 0 ? '0-0' : `${ms - 1}-${MAX_SEQUENCE}`;
  }
  if (typeof position !== 'string') throw new StreamsAdminError('bad-option', `Bad position ${JSON.stringify(position)}: an entry id, a Date, "start" or "end"`);
  const id = checkEntryId(position);
  const dash = id.indexOf('-');
  const ms = BigInt(id.slice(0, dash));
  const seq = BigInt(id.slice(dash + 1));
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms === 0n ? '0-0' : `${ms - 1n}-${MAX_SEQUENCE}`;
}

/** Counts what moving a group from `fromId` to `toId` means, reading at most COUNT_LIMIT ids per count. */
async function countMove(redis: RedisClient, key: string, fromId: string, toId: string, pending: number): Promise<GroupMove> {
  const order = compareEntryIds(toId, fromId);
  const back = order < 0 ? await countAfter(redis, key, toId, fromId) : { count: 0, capped: false };
  const forward = order > 0 ? await countAfter(redis, key, fromId, toId) : { count: 0, capped: false };
  const ahead = await countAfter(redis, key, toId, '+');
  return {
    key,
    fromId,
    toId,
    redelivered: back.count,
    skipped: forward.count,
    toDeliver: ahead.count,
    countsCapped: back.capped || forward.capped || ahead.capped,
    pending,
  };
}

/** Entries with `after < id <= upTo` (`upTo` may be '+'), in pages, stopping at COUNT_LIMIT. */
async function countAfter(redis: RedisClient, key: string, after: string, upTo: string): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  let start = `(${after}`; // exclusive (Redis 6.2+)
  while (count < COUNT_LIMIT) {
    const page = (await redis.xrange(key, start, upTo, 'COUNT', COUNT_PAGE)) as Array<[string, string[]]>;
    count += page.length;
    if (page.length < COUNT_PAGE) return { count, capped: false };
    start = `(${page[page.length - 1][0]}`;
  }
  return { count, capped: true };
}
