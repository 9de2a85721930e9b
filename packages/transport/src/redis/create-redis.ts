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
  if (typeof connection === 'string') return new Redis(connection, base);
  const { url, ...options } = connection;
  return url === undefined ? new Redis({ ...base, ...options }) : new Redis(url, { ...base, ...options });
}

// How long quit() may take before the connection is simply dropped (an unreachable Redis never answers).
const QUIT_TIMEOUT_MS = 1000;

/** Closes a connection: QUIT lets queued commands finish; an unreachable Redis gets a plain disconnect. */
export async function quitOrDisconnect(redis: Redis): Promise<void> {
  if (!(await settleWithin(redis.quit().catch(() => undefined), QUIT_TIMEOUT_MS))) redis.disconnect();
}

/**
 * Waits for the connection's first outcome: undefined once it is ready, or the first connection error (ioredis
 * goes on retrying after it). Lets a caller tell a refused certificate, which no retry fixes, from an outage.
 */
export function firstContact(redis: Redis): Promise<unknown> {
  if (redis.status === 'ready') return Promise.resolve(undefined);
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // lazyConnect: the outcome comes as events
  return new Promise(resolve => {
    const onReady = () => done(undefined);
    const onError = (err: unknown) => done(err);
    const done = (outcome: unknown) => {
      redis.off('ready', onReady);
      redis.off('error', onError);
      resolve(outcome);
    };
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}
