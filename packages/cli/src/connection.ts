import { isClusterConnection, type ConnectionOptions, type StreamsAdminOptions } from '@nestream/transport/admin';
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
    throw usageError(`bad ${source} "${redactUrl(url)}": expected redis://[user:password@]host[:port][/db] or rediss://...`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw usageError(`bad ${source} "${redactUrl(url)}": the scheme must be redis:// or rediss://, not ${parsed.protocol}//`);
  }
  return url;
}

/** `--cluster`: the URL's node as the seed of a cluster, its user, password and TLS for every node. */
function clusterOf(connection: ConnectionOptions): ConnectionOptions {
  if (typeof connection !== 'string') {
    if (isClusterConnection(connection)) return connection;
    throw usageError('--cluster takes the node from --url or REDIS_URL; a config file gives a cluster as "connection": { "type": "cluster", "nodes": [...] }');
  }
  const url = new URL(connection);
  if (url.pathname.length > 1) throw usageError(`--cluster: a Redis Cluster has no databases but database 0, got ${redactUrl(connection)}`);
  const redisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return { type: 'cluster', nodes: [{ host: url.hostname, port: Number(url.port || 6379) }], options: { redisOptions } };
}

/** A URL with its password replaced by `***` (also when the URL does not parse). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
  }
}

/** A connection as a password-free URL-like string. */
export function describeConnection(connection: ConnectionOptions): string {
  if (typeof connection === 'string') return redactUrl(connection);
  if (isClusterConnection(connection)) {
    const [first, ...others] = connection.nodes;
    return `cluster ${first.host}:${first.port}${others.length > 0 ? ` (+${others.length} seed nodes)` : ''}`;
  }
  if (connection.url !== undefined) return redactUrl(connection.url);
  const scheme = connection.tls ? 'rediss' : 'redis';
  const user = connection.username ? `${connection.username}${connection.password ? ':***' : ''}@` : connection.password ? ':***@' : '';
  const where = connection.path ?? `${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}`;
  const db = connection.db ? `/${connection.db}` : '';
  return `${scheme}://${user}${where}${db}`;
}
