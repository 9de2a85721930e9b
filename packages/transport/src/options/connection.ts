import type { ClusterOptions, RedisOptions } from 'ioredis';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { redisUrlProblem } from '../redis/redis-url.js';
import { isObject, nonEmptyString, nonNegative, oneOf, secret, string, type Check, type KeyHints, type OptionTable } from './checks.js';

/**
 * How the connection to Redis is made: a `redis://` or `rediss://` (TLS) URL, an ioredis options object, or
 * both: `{ url, ...ioredis options }`, e.g. a URL from the environment with `tls: { ca }` for a private CA
 * (what the URL says wins over the same setting in the object). Sentinel: ioredis's `{ sentinels, name }`.
 * Redis Cluster: `{ type: 'cluster', nodes, options }`.
 */
export type ConnectionOptions = string | (RedisOptions & { url?: string }) | ClusterConnectionOptions;

/** Where the server, the client and StreamsAdmin connect unless told otherwise: a local Redis. */
export const DEFAULT_CONNECTION: ConnectionOptions = 'redis://127.0.0.1:6379';

/**
 * A Redis Cluster, in the shape Nest's ioredis modules use: seed nodes (ioredis finds the others) and ioredis
 * `ClusterOptions`, whose `redisOptions` (password, tls, ...) apply to every node's connection.
 */
export interface ClusterConnectionOptions {
  type: 'cluster';
  nodes: Array<{ host: string; port: number }>;
  options?: ClusterOptions;
}

/**
 * The connection keys of Nest's built-in Redis transport (`{ host, port, password }`), accepted at the top
 * level of the options when `connection` is absent, so `ClientsModule.register([{ customClass:
 * RedisStreamsClient, options: { host, port } }])` connects where it says. Any other ioredis option goes
 * under `connection`.
 */
export type InlineConnectionOptions = Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'db' | 'tls' | 'path' | 'family'>;

export interface ConnectionField {
  /** ioredis options or URL. @default 'redis://127.0.0.1:6379' */
  connection?: ConnectionOptions;
}

/** Either `connection` or the inline keys, never both (the types and the constructors say so alike). */
export type ConnectionChoice =
  | (ConnectionField & { [K in keyof InlineConnectionOptions]?: never })
  | ({ connection?: never } & InlineConnectionOptions);

const port: Check = (value, path) => {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65_535) {
    throw new InvalidOptionsError(path, `must be a port number (1-65535), got ${JSON.stringify(value)}`);
  }
};

const db: Check = (value, path) => {
  nonNegative(value, path);
  if (!Number.isInteger(value)) throw new InvalidOptionsError(path, `must be an integer >= 0, got ${String(value)}`);
};

const tls: Check = (value, path) => {
  if (!isObject(value)) throw new InvalidOptionsError(path, 'must be an object of TLS options (ioredis `tls`), e.g. {} or { ca }');
};

export const INLINE_CONNECTION_OPTIONS: OptionTable<InlineConnectionOptions> = {
  host: nonEmptyString,
  port,
  username: string,
  password: secret,
  db,
  tls,
  path: nonEmptyString,
  family: oneOf(0, 4, 6),
};

const CLUSTER_KEYS = ['type', 'nodes', 'options'];

/** `{ type: 'cluster', nodes, options }`: seed nodes as `{ host, port }`, no key prefix of ioredis's. */
const clusterConnection: Check = (value, path) => {
  const given = value as Record<string, unknown>;
  if (given.type !== 'cluster') throw new InvalidOptionsError(`${path}.type`, `must be 'cluster' (or leave type out for one Redis), got ${JSON.stringify(given.type)}`);
  for (const key of Object.keys(given)) {
    if (!CLUSTER_KEYS.includes(key)) {
      throw new InvalidOptionsError(`${path}.${key}`, `is not a cluster connection key (${CLUSTER_KEYS.join(', ')}); node connection options go under options.redisOptions`);
    }
  }
  const nodes = given.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) throw new InvalidOptionsError(`${path}.nodes`, 'must be a non-empty array of { host, port } seed nodes');
  nodes.forEach((node, i) => {
    if (!isObject(node)) throw new InvalidOptionsError(`${path}.nodes[${i}]`, `must be { host, port }, got ${JSON.stringify(node)}`);
    nonEmptyString(node.host, `${path}.nodes[${i}].host`);
    port(node.port, `${path}.nodes[${i}].port`);
  });
  if (given.options === undefined) return;
  if (!isObject(given.options)) throw new InvalidOptionsError(`${path}.options`, 'must be an object of ioredis ClusterOptions');
  const options = given.options as Record<string, unknown>;
  const redisOptions = options.redisOptions as Record<string, unknown> | undefined;
  if (options.keyPrefix !== undefined || redisOptions?.keyPrefix !== undefined) {
    throw new InvalidOptionsError(`${path}.options.keyPrefix`, "ioredis's keyPrefix does not cover every stream command: use the transport's keyPrefix option");
  }
};

export const connection: Check = (value, path) => {
  if (isObject(value) && value.type !== undefined) return clusterConnection(value, path);
  if (typeof value === 'string') {
    const problem = redisUrlProblem(value);
    if (problem) throw new InvalidOptionsError(path, problem);
    return;
  }
  if (!isObject(value)) throw new InvalidOptionsError(path, 'must be a redis:// URL or an ioredis options object');
  if (value.url !== undefined) {
    const problem = typeof value.url === 'string' ? redisUrlProblem(value.url) : 'must be a string';
    if (problem) throw new InvalidOptionsError(`${path}.url`, problem);
  }
  // ioredis's keyPrefix is not applied to every stream command alike (XREADGROUP's keys, Lua keys).
  if (value.keyPrefix !== undefined) {
    throw new InvalidOptionsError(`${path}.keyPrefix`, "ioredis's keyPrefix does not cover every stream command: use the transport's keyPrefix option");
  }
  for (const key of ['port', 'db', 'password'] as const) if (value[key] !== undefined) INLINE_CONNECTION_OPTIONS[key](value[key], `${path}.${key}`);
};

const RECONNECT = 'ioredis reconnects on its own (connection: { retryStrategy }); failed handler calls are retried per retry.maxAttempts';

/**
 * Keys of Nest's built-in Redis transport and of ioredis that are not top-level options here, with what to
 * use instead: an error naming them, never a silent ignore.
 */
export const FOREIGN_KEY_HINTS: KeyHints = {
  retryAttempts: `Nest's Redis transport option; ${RECONNECT}`,
  retryDelay: `Nest's Redis transport option; ${RECONNECT}`,
  wildcards: 'patterns are stream names here: no wildcard subscriptions (see "Patterns" in docs/guide/events.md)',
  url: 'give a URL as connection: "redis://..."',
  transport: 'Transport.REDIS is Nest\'s pub/sub transport; this one is used as strategy (server) or customClass (client)',
  ...Object.fromEntries(
    [
      'connectTimeout', 'commandTimeout', 'socketTimeout', 'keepAlive', 'noDelay', 'connectionName', 'retryStrategy',
      'reconnectOnError', 'maxRetriesPerRequest', 'enableOfflineQueue', 'enableReadyCheck', 'lazyConnect',
      'enableAutoPipelining', 'autoResubscribe', 'autoResendUnfulfilledCommands', 'sentinels', 'name', 'role',
      'natMap', 'sentinelPassword', 'sentinelUsername', 'enableTLSForSentinelMode', 'stringNumbers', 'readOnly',
      'showFriendlyErrorStack', 'disconnectTimeout', 'maxLoadingRetryTime', 'scripts', 'Connector',
    ].map(key => [key, `an ioredis option: put it under connection: { ${key}, ... } (only ${Object.keys(INLINE_CONNECTION_OPTIONS).join(', ')} are read at the top level)`]),
  ),
};

/**
 * The connection the options ask for: `connection`, or the inline keys (Nest's shape), or the default.
 * Giving both is an error: one of them would be ignored.
 */
export function resolveConnection(given: object, fallback: ConnectionOptions): ConnectionOptions {
  const options = given as Record<string, unknown>;
  const inline = Object.keys(INLINE_CONNECTION_OPTIONS).filter(key => options[key] !== undefined);
  if (inline.length === 0) return (options.connection as ConnectionOptions | undefined) ?? fallback;
  if (options.connection !== undefined) {
    throw new InvalidOptionsError(inline[0], `give the connection either as connection or as ${inline.join(', ')} (Nest's Redis shape), not both`);
  }
  const resolved: Record<string, unknown> = {};
  for (const key of inline) resolved[key] = key === 'port' ? Number(options[key]) : options[key];
  return resolved as RedisOptions;
}
