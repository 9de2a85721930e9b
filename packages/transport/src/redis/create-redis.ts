import { Redis, type RedisOptions } from 'ioredis';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { ConnectionOptions } from '../options.js';
import { redactRedisUrl, redisUrlProblem } from './redis-url.js';

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
  if (typeof connection !== 'string') return new Redis({ ...base, ...connection });
  // Checked before ioredis sees it: its URL parser prints a bad URL, password included, in a warning.
  const problem = redisUrlProblem(connection);
  if (problem) throw new InvalidOptionsError('connection', problem);
  try {
    return new Redis(connection, base);
  } catch (err) {
    // Node's URL errors carry their input (the password with it): never pass them on as they are.
    const message = (err as Error)?.message ?? String(err);
    throw new InvalidOptionsError('connection', `could not be used (${message.split(connection).join(redactRedisUrl(connection))}): ${redactRedisUrl(connection)}`);
  }
}
