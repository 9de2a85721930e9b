import type { RedisStreamsSerializer } from '../wire/serializer.js';
import { checkOptions, positiveInt, recordOf, string, withMethod, type OptionTable } from './checks.js';
import {
  connection, DEFAULT_CONNECTION, FOREIGN_KEY_HINTS, INLINE_CONNECTION_OPTIONS, resolveConnection,
  type ConnectionChoice, type ConnectionField, type ConnectionOptions,
} from './connection.js';
import { durabilityOption, resolveDurability, type DurabilityOptions } from './durability.js';
import {
  metricsOption, resolveMetricsOptions, resolveTracingOptions, tracingOption,
  type MetricsOptions, type ResolvedMetricsOptions, type ResolvedTracingOptions, type TracingOptions,
} from './observability.js';
import { partitionCount } from './partition-count.js';

/**
 * The options of `RedisStreamsClient`: what a user may give, the defaults, the table every key is checked
 * against, and what the client runs with (`ResolvedClientOptions`).
 */

/** Options of `RedisStreamsClient` other than the connection. */
export interface RedisStreamsClientSettings {
  /** Prepended to every pattern to make its stream key; must match the server's. @default '' */
  keyPrefix?: string;
  /** Approximate cap for every stream written (XADD MAXLEN ~ n). @default undefined (no trimming) */
  maxLen?: number;
  /** Per-pattern caps, overriding maxLen. @default {} */
  maxLenByPattern?: Record<string, number>;
  /** Default request-reply timeout of client.send(). @default 30000 */
  requestTimeoutMs?: number;
  /** connect() rejects when Redis is not ready within this (at once on a wrong password or a refused TLS certificate). @default 5000 */
  connectTimeoutMs?: number;
  /**
   * emit(), emitMany() and the request of send() reject when Redis has not taken the entry within this,
   * waiting for a connection included. @default 5000
   */
  writeTimeoutMs?: number;
  /** Writes waiting for a connection at most; more reject at once. @default 100000 */
  offlineQueueLimit?: number;
  /**
   * Durable writes: emit(), emitMany() and the request of send() resolve only once `replicas` replicas have
   * the entry (Redis WAIT), and reject with DurabilityError when they did not confirm it within `timeoutMs`
   * (the entry is on the master all the same). A write then settles within writeTimeoutMs + timeoutMs.
   * @default false
   */
  durability?: DurabilityOptions | false;
  /** Writes an event's or request's payload (`data`); the consumers' deserializer must read it. @default JSON.stringify */
  serializer?: RedisStreamsSerializer;
  /**
   * Partition counts of partitioned patterns (`{ 'orders.placed': 8 }`). Not needed: the client reads a pattern's
   * count from Redis on its first emit. Given, it is checked against Redis on first use (a difference is a
   * PartitionError), and used even before any consumer recorded one. @default {}
   */
  partitions?: Record<string, number>;
  /**
   * How long an idempotency key (`RedisStreamRecordBuilder.setIdempotencyKey()`) is remembered per stream: a
   * second emit with the key within it adds nothing. Redis keeps one small key per keyed emit for this long
   * (about 100 bytes: 1,000 keyed emits/s take about 60 MB at the default). @default 600000 (10 minutes)
   */
  idempotencyWindowMs?: number;
  /** Prometheus metrics (needs prom-client): `true` registers them in prom-client's default registry. @default false */
  metrics?: boolean | MetricsOptions;
  /** OpenTelemetry spans (needs @opentelemetry/api): `true` uses the global tracer provider. @default false */
  tracing?: boolean | TracingOptions;
}

/**
 * Options of `RedisStreamsClient`: its settings plus the connection, given as `connection` (ioredis options or
 * URL) or, as with Nest's Redis transport, as top-level `host`, `port`, `password`, ...
 */
export type RedisStreamsClientOptions = RedisStreamsClientSettings & ConnectionChoice;

export const DEFAULT_CLIENT_OPTIONS = {
  connection: DEFAULT_CONNECTION,
  keyPrefix: '',
  requestTimeoutMs: 30_000,
  // 5 s: a healthy Redis answers in well under a millisecond and a dropped connection is back within tens of
  // ms; an HTTP request that emits must not hang for ioredis's ~10 s of retries (or ioredis 6's ~73 s).
  connectTimeoutMs: 5000,
  writeTimeoutMs: 5000,
  // Above any burst measured here (bench: 50,000 concurrent emits), about 100 MB at worst with 1 KB payloads.
  offlineQueueLimit: 100_000,
  // Longer than any retry loop of a caller or a reconnect; short enough that the keys' memory stays small.
  idempotencyWindowMs: 600_000,
};

export interface ResolvedClientOptions {
  connection: ConnectionOptions;
  keyPrefix: string;
  maxLen?: number;
  maxLenByPattern: Record<string, number>;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  writeTimeoutMs: number;
  offlineQueueLimit: number;
  idempotencyWindowMs: number;
  /** Undefined when off. */
  durability?: DurabilityOptions;
  serializer?: RedisStreamsSerializer;
  partitions: Record<string, number>;
  /** Undefined when off. */
  metrics?: ResolvedMetricsOptions;
  tracing?: ResolvedTracingOptions;
}

const CLIENT_OPTIONS: OptionTable<RedisStreamsClientSettings & ConnectionField> = {
  connection,
  keyPrefix: string,
  maxLen: positiveInt,
  maxLenByPattern: recordOf(positiveInt),
  requestTimeoutMs: positiveInt,
  connectTimeoutMs: positiveInt,
  writeTimeoutMs: positiveInt,
  offlineQueueLimit: positiveInt,
  idempotencyWindowMs: positiveInt,
  durability: durabilityOption,
  serializer: withMethod('serialize'),
  partitions: recordOf(partitionCount),
  metrics: metricsOption,
  tracing: tracingOption,
};

export function resolveClientOptions(options: RedisStreamsClientOptions = {}): ResolvedClientOptions {
  checkOptions({ ...CLIENT_OPTIONS, ...INLINE_CONNECTION_OPTIONS }, options, '', FOREIGN_KEY_HINTS);
  const d = DEFAULT_CLIENT_OPTIONS;
  const o = options as RedisStreamsClientSettings;
  return {
    connection: resolveConnection(options, d.connection),
    keyPrefix: o.keyPrefix ?? d.keyPrefix,
    maxLen: o.maxLen,
    maxLenByPattern: { ...o.maxLenByPattern },
    requestTimeoutMs: o.requestTimeoutMs ?? d.requestTimeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? d.connectTimeoutMs,
    writeTimeoutMs: o.writeTimeoutMs ?? d.writeTimeoutMs,
    offlineQueueLimit: o.offlineQueueLimit ?? d.offlineQueueLimit,
    idempotencyWindowMs: o.idempotencyWindowMs ?? d.idempotencyWindowMs,
    durability: resolveDurability(o.durability),
    serializer: o.serializer,
    partitions: { ...o.partitions },
    metrics: resolveMetricsOptions(o.metrics),
    tracing: resolveTracingOptions(o.tracing),
  };
}
