import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from '../options.js';

/**
 * One ioredis connection per role. The name shows in CLIENT LIST (`nestream:reader`, ...), which lets
 * operators see the transport's connections. The reader waits for a reconnect instead of failing its
 * command (maxRetriesPerRequest: null): its watchdog, not a retry count, decides when a read is lost.
 */
/**
 * The commands connection auto-pipelines: XACKs, XCLAIMs of due retries and dead-letter moves issued in the
 * same tick share one round trip.
 */
export function createRedis(connection: ConnectionOptions, role: 'commands' | 'reader' | 'producer' | 'replies', extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    connectionName: `nestream:${role}`,
    ...(role === 'reader' || role === 'replies' ? { maxRetriesPerRequest: null } : { enableAutoPipelining: true }),
    ...extra,
  };
  return typeof connection === 'string' ? new Redis(connection, base) : new Redis({ ...base, ...connection });
}
