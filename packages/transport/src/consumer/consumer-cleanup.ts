import type { RedisClient } from '../redis/redis-client.js';
import { runScript } from '../redis/lua.js';
import { fieldMap } from '../redis/replies.js';

/** Removes consumers of the group idle longer than `idleMs` with no pending entries (never `self`). */
export async function removeIdleConsumers(redis: RedisClient, stream: string, group: string, self: string, idleMs: number): Promise<string[]> {
  const rows = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
  const removed: string[] = [];
  for (const row of rows) {
    const info = fieldMap(row);
    const name = String(info.name);
    if (name === self || Number(info.pending) > 0 || Number(info.idle) < idleMs) continue;
    // Checked again inside the script: a delivery between XINFO and the delete must keep the consumer.
    if ((await runScript(redis, 'consumerCleanup', [stream], [group, name])) === 1) removed.push(name);
  }
  return removed;
}
