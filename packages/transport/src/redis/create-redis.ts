import { Redis, type RedisOptions } from 'ioredis';
import { settleWithin } from '../settle-within.js';
import type { ConnectionOptions } from '../options.js';

/**
 * One ioredis connection per role. The name shows in CLIENT LIST (`nestream:reader`, ...), which lets
 * operators see the transport's connections. The reader waits for a reconnect instead of failing its
 * command (maxRetriesPerRequest: null): its watchdog, not a retry count, decides when a read is lost.
 * No auto-pipelining by default: the consumer batches its XACKs itself, and an auto-pipeline costs a
 * Pipeline object per tick, more than the command it carries when traffic is light. The producer turns
 * it on: many concurrent emits are its common case.
 */
export function createRedis(connection: ConnectionOptions, role: 'commands' | 'reader' | 'producer' | 'replies', extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    connectionName: `nestream:${role}`,
    ...(role === 'reader' || role === 'replies' ? { maxRetriesPerRequest: null } : {}),
    ...extra,
  };
  return typeof connection === 'string' ? new Redis(connection, base) : new Redis({ ...base, ...connection });
}

// How long quit() may take before the connection is simply dropped (an unreachable Redis never answers).
const QUIT_TIMEOUT_MS = 1000;

/** Closes a connection: QUIT lets queued commands finish; an unreachable Redis gets a plain disconnect. */
export async function quitOrDisconnect(redis: Redis): Promise<void> {
  if (!(await settleWithin(redis.quit().catch(() => undefined), QUIT_TIMEOUT_MS))) redis.disconnect();
}
