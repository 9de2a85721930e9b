import { pipelineBySlot, type RedisClient } from '../redis/redis-client.js';
import { runScript } from '../redis/lua.js';
import { StreamKeys } from '../keys.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { toStreamEntry, type StreamEntry } from './browse.js';

/** One delayed emit waiting for its time, decoded as a stream entry would be (`message`, or `decodeError`). */
export interface ScheduledEntry extends StreamEntry {
  /** The schedule id its emit resolved with (`client.cancelScheduled()` and `nestream scheduled cancel` take it). */
  id: string;
  /** The stream it will enter (a partition, for a partitioned pattern). */
  key: string;
  /** When it is due, ms since the epoch (Redis's clock). */
  dueAt: number;
  /** Its fields as they will be added (`data`, `cid`, `h`, ...). */
  fields: Record<string, string>;
}

export interface ScheduledList {
  stream: string;
  /** Delayed emits waiting, in all (every partition). */
  total: number;
  /** The `limit` due soonest after skipping `offset`, soonest first. */
  entries: ScheduledEntry[];
}

/** The streams of a name: the stream itself, or every partition when a partition count is recorded for it. */
async function keysOf(redis: RedisClient, keys: StreamKeys, stream: string): Promise<string[]> {
  const count = Number(await redis.get(keys.partitionCount(stream)));
  return count > 0 ? keys.partitions(stream, count) : [keys.stream(stream)];
}

/** The delayed emits of a stream (every partition), due soonest first: `limit` of them after the `offset` soonest. */
export async function listScheduled(redis: RedisClient, options: ResolvedAdminOptions, stream: string, limit: number, offset = 0): Promise<ScheduledList> {
  const keys = new StreamKeys(options.keyPrefix);
  let total = 0;
  const due: Array<{ id: string; key: string; dueAt: number }> = [];
  for (const key of await keysOf(redis, keys, stream)) {
    total += await redis.zcard(keys.schedule(key));
    // The page may come from any partition: each one's soonest offset + limit hold it.
    const soonest = await redis.zrange(keys.schedule(key), 0, offset + limit - 1, 'WITHSCORES');
    for (let i = 0; i < soonest.length; i += 2) due.push({ id: soonest[i], key, dueAt: Number(soonest[i + 1]) });
  }
  due.sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const entries: ScheduledEntry[] = [];
  for (const { id, key, dueAt } of due.slice(offset, offset + limit)) {
    const json = await redis.hget(keys.scheduledEntries(key), id);
    entries.push({ ...toStreamEntry(id, json ? (JSON.parse(json) as string[]) : []), key, dueAt });
  }
  return { stream, total, entries };
}

/**
 * How many delayed emits wait for each of the streams (by key: a partition counts on its own), in one pipeline
 * per slot. A stream whose name cannot have a schedule (a `}` without a hash tag: producers refuse to delay
 * there) counts 0; null when the ACL user may not read its schedule (NOPERM: unknown, not zero).
 */
export async function countScheduled(redis: RedisClient, options: ResolvedAdminOptions, streams: string[]): Promise<Map<string, number | null>> {
  const keys = new StreamKeys(options.keyPrefix);
  const schedules: Array<{ stream: string; schedule: string }> = [];
  for (const stream of streams) {
    try {
      schedules.push({ stream, schedule: keys.schedule(keys.stream(stream)) });
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
    }
  }
  const counts = new Map<string, number | null>(streams.map(s => [s, 0]));
  const replies = await pipelineBySlot(redis, schedules, s => s.schedule, (pipeline, s) => pipeline.zcard(s.schedule));
  schedules.forEach(({ stream }, i) => {
    const [err, count] = replies[i][0] ?? [null, 0];
    if (err && !/^NOPERM/.test(err.message)) throw err;
    counts.set(stream, err ? null : Number(count));
  });
  return counts;
}

/** Cancels a delayed emit of a stream (any partition); true if it was waiting. */
export async function cancelScheduledEntry(redis: RedisClient, options: ResolvedAdminOptions, stream: string, id: string): Promise<boolean> {
  const keys = new StreamKeys(options.keyPrefix);
  for (const key of await keysOf(redis, keys, stream)) {
    if ((await runScript<number>(redis, 'cancelScheduled', [keys.schedule(key), keys.scheduledEntries(key)], [id])) === 1) return true;
  }
  return false;
}
