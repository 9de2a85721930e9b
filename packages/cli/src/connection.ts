import { describeConnection, isClusterConnection, redactRedisUrl, type ConnectionOptions, type StreamsAdminOptions } from '@nestream/transport/admin';
import { usageError } from './cli-error.js';
import { readConfigFile } from './config-file.js';

/** The global options every command takes. */
export interface GlobalOptions {
  url?: string;
  /** The URL names one node of a Redis Cluster (a seed: ioredis finds the others). */
  cluster?: boolean;
  config?: string;
  prefix?: string;
}

export interface Target {
  admin: StreamsAdminOptions;
  /** Where the CLI connects, for messages: never with a password. */
  description: string;
}

export const DEFAULT_URL = 'redis://127.0.0.1:6379';

/**
 * A CLI must answer quickly, not wait for Redis: one connection attempt (no reconnects) of at most
 * 3 s, and a command that gets no reply within 10 s fails instead of hanging. Watch mode and `tail`
 * reconnect on their own terms.
 */
export const CLI_REDIS_OPTIONS: NonNullable<StreamsAdminOptions['redisOptions']> = {
  connectTimeout: 3000,
  commandTimeout: 10_000,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  enableReadyCheck: true,
};

/** Where to connect: `--url`, else the config file's `connection`, else `REDIS_URL`, else redis://127.0.0.1:6379. */
export function resolveTarget(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const config = options.config ? readConfigFile(options.config) : {};
  let connection: ConnectionOptions;
  if (options.url !== undefined) connection = checkUrl(options.url, '--url');
  else if (config.connection !== undefined) connection = typeof config.connection === 'string' ? checkUrl(config.connection, 'connection') : config.connection;
  else if (env.REDIS_URL) connection = checkUrl(env.REDIS_URL, 'REDIS_URL');
  else connection = DEFAULT_URL;
  if (options.cluster) connection = clusterOf(connection);
  const suffix = config.deadLetterSuffix ?? ':dlq';
  return {
    admin: {
      connection,
      keyPrefix: options.prefix ?? config.keyPrefix ?? '',
      deadLetter: { key: stream => stream + suffix },
      redisOptions: CLI_REDIS_OPTIONS,
    },
    description: describeConnection(connection),
  };
}

function checkUrl(url: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`bad ${source} "${redactRedisUrl(url)}": expected redis://[user:password@]host[:port][/db] or rediss://...`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw usageError(`bad ${source} "${redactRedisUrl(url)}": the scheme must be redis:// or rediss://, not ${parsed.protocol}//`);
  }
  return url;
}

/**
 * `--cluster`, or a node that turned out to be one of a cluster: the node as the seed of a cluster, its user,
 * password and TLS for every node. Takes a URL, or ioredis options naming one host and port.
 */
function clusterOf(connection: ConnectionOptions): ConnectionOptions {
  if (typeof connection !== 'string') {
    if (isClusterConnection(connection)) return connection;
    if (connection.sentinels || connection.path) {
      throw usageError('--cluster takes the node from --url or REDIS_URL, or a config file\'s host and port or url; a config file can also give a cluster as "connection": { "type": "cluster", "nodes": [...] }');
    }
    // { url, ...ioredis options }: the URL's node and credentials, the other options (tls: { ca }) for every node.
    const { url, host = '127.0.0.1', port = 6379, db: _db, ...redisOptions } = connection;
    if (url !== undefined) {
      const fromUrl = clusterOf(url) as Extract<ConnectionOptions, { type: 'cluster' }>;
      return { ...fromUrl, options: { redisOptions: { ...fromUrl.options?.redisOptions, ...redisOptions } } };
    }
    return { type: 'cluster', nodes: [{ host, port }], options: { redisOptions } };
  }
  const url = new URL(connection);
  if (url.pathname.length > 1) throw usageError(`--cluster: a Redis Cluster has no databases but database 0, got ${redactRedisUrl(connection)}`);
  const redisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return { type: 'cluster', nodes: [{ host: url.hostname, port: Number(url.port || 6379) }], options: { redisOptions } };
}

/** The same target read as a Redis Cluster (its node the seed): for a node found to be one of a cluster. */
export function clusterTarget(target: Target): Target {
  const connection = clusterOf(target.admin.connection!);
  return { admin: { ...target.admin, connection }, description: describeConnection(connection) };
}
