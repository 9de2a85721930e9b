import type { EventEmitter } from 'node:events';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { settleWithin } from '../settle-within.js';
import type { ClusterConnectionOptions, ConnectionOptions } from '../options/connection.js';
import { redactRedisUrl, redisUrlProblem } from './redis-url.js';
import { isClusterConnection, type RedisClient } from './redis-client.js';

/**
 * One ioredis connection per role. The name shows in CLIENT LIST (`nestream:reader`, ...), which lets
 * operators see the transport's connections. The reader waits for a reconnect instead of failing its
 * command (maxRetriesPerRequest: null): its watchdog, not a retry count, decides when a read is lost.
 * No auto-pipelining by default: the consumer batches its XACKs itself, and an auto-pipeline costs a
 * Pipeline object per tick, more than the command it carries when traffic is light. The producer turns
 * it on: many concurrent emits are its common case.
 */
export function createRedis(
  connection: ConnectionOptions,
  role: 'commands' | 'reader' | 'producer' | 'replies' | 'admin',
  extra: RedisOptions = {},
  /** Options of the Cluster itself (the user's `connection.options` win), when the connection is a Redis Cluster. */
  clusterExtra: ClusterOptions = {},
): RedisClient {
  const base: RedisOptions = {
    connectionName: `nestream:${role}`,
    ...(role === 'reader' || role === 'replies' ? { maxRetriesPerRequest: null } : {}),
    ...extra,
  };
  if (isClusterConnection(connection)) return newCluster(connection, base, clusterExtra);
  const url = typeof connection === 'string' ? connection : connection.url;
  const options = typeof connection === 'string' ? base : { ...base, ...withoutUrl(connection) };
  const redis = url === undefined ? new Redis(options) : newRedisFromUrl(url, options);
  quietSecondSocketErrors(redis);
  return redis;
}

/**
 * A connection from a URL that never shows its password: the URL is checked before ioredis sees it (its
 * parser prints a bad URL, password included, in a deprecation warning), and Node's URL errors, which carry
 * their input, are not passed on as they are.
 */
function newRedisFromUrl(url: string, options: RedisOptions): Redis {
  const problem = redisUrlProblem(url);
  if (problem) throw new InvalidOptionsError('connection', problem);
  try {
    return new Redis(url, options);
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    throw new InvalidOptionsError('connection', `could not be used (${message.split(url).join(redactRedisUrl(url))}): ${redactRedisUrl(url)}`);
  }
}

/**
 * A Redis Cluster connection: the role's settings apply to every node's connection (`redisOptions`), but
 * auto-pipelining, lazy connecting and reconnecting are the cluster's own (ioredis pipelines per node, and
 * reconnects the cluster as a whole: a role's `retryStrategy` becomes its `clusterRetryStrategy`). A role's
 * Cluster-level settings (`clusterExtra`) are defaults: the user's `options` win, as on one Redis.
 */
function newCluster(connection: ClusterConnectionOptions, role: RedisOptions, clusterExtra: ClusterOptions): Cluster {
  const { enableAutoPipelining, lazyConnect, retryStrategy, ...perNode } = role;
  const options = connection.options ?? {};
  return new Cluster(connection.nodes, {
    ...clusterExtra,
    ...options,
    ...(enableAutoPipelining !== undefined ? { enableAutoPipelining } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(retryStrategy !== undefined ? { clusterRetryStrategy: retryStrategy } : {}),
    redisOptions: { ...options.redisOptions, ...perNode },
  });
}

function withoutUrl(connection: RedisOptions & { url?: string }): RedisOptions {
  const { url: _url, ...options } = connection;
  return options;
}

/**
 * ioredis listens for its socket's 'error' only once (ioredis #961), but a TLS socket whose server certificate
 * was refused can emit a second error (the server's alert arriving after ours): with no listener left, that
 * is an uncaught exception, which would crash the process instead of failing listen() or connect(). A socket
 * that errored keeps a listener; ioredis has already reported the first error and drops the socket.
 */
function quietSecondSocketErrors(redis: Redis): void {
  redis.on('error', () => {
    const socket = redis.stream as EventEmitter | undefined;
    if (socket && socket.listenerCount('error') === 0) socket.on('error', () => undefined);
  });
}

// How long quit() may take before the connection is simply dropped (an unreachable Redis never answers).
const QUIT_TIMEOUT_MS = 1000;

/** Closes a connection: QUIT lets queued commands finish; an unreachable Redis gets a plain disconnect. */
export async function quitOrDisconnect(redis: RedisClient): Promise<void> {
  if (!(await settleWithin(redis.quit().catch(() => undefined), QUIT_TIMEOUT_MS))) redis.disconnect();
}

/**
 * Waits for the connection's first outcome: undefined once it is ready, or the first connection error (ioredis
 * goes on retrying after it). Lets a caller tell a refused certificate, which no retry fixes, from an outage.
 */
export function firstContact(redis: RedisClient): Promise<unknown> {
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
