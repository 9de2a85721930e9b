import type { ConnectionOptions, StreamsAdminOptions } from '@nestream/transport/admin';
import { usageError } from './cli-error.js';
import { readConfigFile } from './config-file.js';

/** The global options every command takes. */
export interface GlobalOptions {
  url?: string;
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
  // A cluster's seed nodes (StreamsAdmin refuses a cluster for now, and says so; this only names it).
  if ('type' in connection) return `Redis Cluster ${connection.nodes.map(n => `${n.host}:${n.port}`).join(',')}`;
  if (connection.url !== undefined) return redactUrl(connection.url);
  const scheme = connection.tls ? 'rediss' : 'redis';
  const user = connection.username ? `${connection.username}${connection.password ? ':***' : ''}@` : connection.password ? ':***@' : '';
  const where = connection.path ?? `${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}`;
  const db = connection.db ? `/${connection.db}` : '';
  return `${scheme}://${user}${where}${db}`;
}
