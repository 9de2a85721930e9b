import type { RedisClient } from '../redis/redis-client.js';
import { runScript } from '../redis/lua.js';
import { StreamKeys } from '../keys.js';
import type { ResolvedAdminOptions } from './admin-options.js';

/** One delayed emit waiting for its time. */
export interface ScheduledEntry {
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
  /** The `limit` due soonest, soonest first. */
  entries: ScheduledEntry[];
}

/** The streams of a name: the stream itself, or every partition when a partition count is recorded for it. */
async function keysOf(redis: RedisClient, keys: StreamKeys, stream: string): Promise<string[]> {
  const count = Number(await redis.get(keys.partitionCount(stream)));
  return count > 0 ? keys.partitions(stream, count) : [keys.stream(stream)];
}

/** The delayed emits of a stream (every partition), due soonest first, at most `limit`. */
export async function listScheduled(redis: RedisClient, options: ResolvedAdminOptions, stream: string, limit: number): Promise<ScheduledList> {
  const keys = new StreamKeys(options.keyPrefix);
  let total = 0;
  const entries: ScheduledEntry[] = [];
  for (const key of await keysOf(redis, keys, stream)) {
    total += await redis.zcard(keys.schedule(key));
    const soonest = await redis.zrange(keys.schedule(key), 0, limit - 1, 'WITHSCORES');
    for (let i = 0; i < soonest.length; i += 2) {
      const id = soonest[i];
      const json = await redis.hget(keys.scheduledEntries(key), id);
      const flat = json ? (JSON.parse(json) as string[]) : [];
      const fields: Record<string, string> = {};
      for (let f = 0; f + 1 < flat.length; f += 2) fields[flat[f]] = flat[f + 1];
      entries.push({ id, key, dueAt: Number(soonest[i + 1]), fields });
    }
  }
  entries.sort((a, b) => a.dueAt - b.dueAt);
  return { stream, total, entries: entries.slice(0, limit) };
}

/** Cancels a delayed emit of a stream (any partition); true if it was waiting. */
export async function cancelScheduledEntry(redis: RedisClient, options: ResolvedAdminOptions, stream: string, id: string): Promise<boolean> {
  const keys = new StreamKeys(options.keyPrefix);
  for (const key of await keysOf(redis, keys, stream)) {
    if ((await runScript<number>(redis, 'cancelScheduled', [keys.schedule(key), keys.scheduledEntries(key)], [id])) === 1) return true;
  }
  return false;
}
