import type { Redis } from 'ioredis';
import { fieldMap } from '../redis/replies.js';

/**
 * KEYS[1] stream; ARGV[1] group, ARGV[2] consumer.
 * Deletes the consumer only if it has no pending entry, in one atomic step: XGROUP DELCONSUMER drops a
 * consumer's pending entries for good, so checking first and deleting later could lose an entry that
 * was delivered in between. Returns 1 if deleted, 0 if kept.
 */
const DELETE_IF_NO_PENDING = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** Removes consumers of the group idle longer than `idleMs` with no pending entries (never `self`). */
export async function removeIdleConsumers(redis: Redis, stream: string, group: string, self: string, idleMs: number): Promise<string[]> {
  const rows = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
  const removed: string[] = [];
  for (const row of rows) {
    const info = fieldMap(row);
    const name = String(info.name);
    if (name === self || Number(info.pending) > 0 || Number(info.idle) < idleMs) continue;
    if ((await redis.eval(DELETE_IF_NO_PENDING, 1, stream, group, name)) === 1) removed.push(name);
  }
  return removed;
}
