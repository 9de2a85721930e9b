import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from './errors/invalid-options.error.js';
import { StreamKeys } from './keys.js';
import { MAX_PARTITIONS } from './partition-routing.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './wire/decode-limits.js';
import type { RedisStreamsDeserializer, RedisStreamsSerializer } from './wire/serializer.js';
import {
  boolean, checkOptions, falseOr, func, nested, nonEmptyString, nonNegative, nonNegativeInt, oneOf, positiveInt, recordOf, string, symbol,
  type Check, type OptionTable,
} from './options/checks.js';
import {
  connection, FOREIGN_KEY_HINTS, INLINE_CONNECTION_OPTIONS, resolveConnection,
  type ConnectionChoice, type ConnectionField, type ConnectionOptions,
} from './options/connection.js';
import {
  metricsOption, resolveMetricsOptions, resolveTracingOptions, tracingOption,
  type MetricsOptions, type ResolvedMetricsOptions, type ResolvedTracingOptions, type TracingOptions,
} from './observability/observability-options.js';
import { durabilityOption, resolveDurability, type DurabilityOptions } from './options/durability.js';
import { retentionOption, type RetentionOptions } from './options/retention.js';
import { rateLimitOption, type RateLimitOptions } from './options/rate-limit.js';
import { resolveScheduler, schedulerOption, type ResolvedScheduler, type SchedulerOptions } from './options/scheduler.js';

export type { DurabilityOptions } from './options/durability.js';
export type { RetentionOptions } from './options/retention.js';
export type { RateLimitOptions } from './options/rate-limit.js';
export type { SchedulerOptions } from './options/scheduler.js';
export type { ClusterConnectionOptions, ConnectionOptions, ConnectionChoice, InlineConnectionOptions } from './options/connection.js';

export interface BackoffOptions {
  /** `exponential`: delayMs * 2^(attempt-1); `fixed`: delayMs every time. @default 'exponential' */
  type?: 'exponential' | 'fixed';
  /** Delay before the first retry. @default 1000 */
  delayMs?: number;
  /** Upper bound of any delay. @default 30000 */
  maxDelayMs?: number;
  /** Random spread, as a fraction of the delay (0.2 = up to +20%). Never shortens a delay. @default 0.1 */
  jitter?: number;
}

export interface RetryOptions {
  /** Handler calls in all, the first included, before the entry is dead-lettered. @default 5 (requests: 1) */
  maxAttempts?: number;
  /**
   * Deliveries that ended without an outcome (the consumer crashed, was stopped or lost the entry while
   * handling it), at most: one more and the entry is dead-lettered (reason `interrupted`) instead of run
   * again, so an entry that crashes every consumer stops. They never count against maxAttempts. @default 10
   */
  maxInterruptions?: number;
  backoff?: BackoffOptions;
}

export interface DeadLetterOptions {
  /** Dead-letter stream of a source stream. @default stream => `${stream}:dlq` */
  key?: (stream: string) => string;
  /** Approximate cap of each dead-letter stream (XADD MAXLEN ~). @default undefined (no cap) */
  maxLen?: number;
  /**
   * The dead letter of an entry larger than `maxPayloadBytes` keeps this many bytes of each longer value
   * (cut before a UTF-8 character, not through it) and records the value's full size in `dlq.<field>.bytes`.
   * @default 1024
   */
  oversizedPrefixBytes?: number;
}

export interface ClaimOptions {
  /** How often the claim loop runs (XAUTOCLAIM per stream, lease renewal). @default 5000 */
  intervalMs?: number;
  /** An entry pending longer than this with another consumer is taken over. @default 30000 */
  minIdleMs?: number;
  /**
   * The same for a request (@MessagePattern), whose caller is waiting: its server renews it at every claim
   * round, so it can be taken over sooner. At least 2 x intervalMs.
   * @default min(minIdleMs, max(10000, 2 x intervalMs))
   */
  requestMinIdleMs?: number;
  /** Entries claimed per stream per run, at most (also bounded by free slots). @default 100 */
  batchSize?: number;
}

export interface ConsumerCleanupOptions {
  /** Consumers of the group idle longer than this and with no pending entries are deleted. */
  idleMs: number;
}

/** Options of `RedisStreamsServer` other than the connection. Only `group` is required. */
export interface RedisStreamsServerSettings {
  /** Prepended to every pattern to make its stream key. @default '' */
  keyPrefix?: string;
  /** Consumer group name. Required. */
  group: string;
  /** Consumer name; keep it stable across restarts to take back your own pending entries at once. @default `${hostname}-${pid}-${random}` */
  consumer?: string;
  /** Where a new group starts: `$` = only new entries, `0` = the whole backlog. @default '$' */
  startId?: string;
  /** Handlers in flight at most; the reader never reads more entries than free slots. @default 256 */
  concurrency?: number;
  /** Entries per XREADGROUP at most (bounded by free slots too). @default 256 */
  readBatchSize?: number;
  /** XREADGROUP BLOCK time. Finite, so the reader wakes to notice shutdown and dead connections. @default 2000 */
  blockMs?: number;
  /** Extra time after blockMs before a read is declared hung and its connection recycled. @default 5000 */
  watchdogMs?: number;
  /** How long close() waits for handlers in flight before quitting. @default 10000 */
  shutdownTimeoutMs?: number;
  /** `auto`: ack on success. `manual`: the handler settles with ctx.ack()/retry()/deadLetter(). @default 'auto' */
  ack?: 'auto' | 'manual';
  retry?: RetryOptions;
  /** Dead-letter settings, or `false` to drop (with an error log) what would be dead-lettered. @default {} */
  deadLetter?: DeadLetterOptions | false;
  claim?: ClaimOptions;
  /** Opt-in removal of idle consumers that have no pending entries. @default false */
  consumerCleanup?: ConsumerCleanupOptions | false;
  /**
   * Safe retention: trim the streams read here only below what every consumer group has read and acked
   * (`{ maxLen?, maxAgeMs?, hardMaxLen?, intervalMs? }`); per pattern in the handler extras too. @default false
   */
  retention?: RetentionOptions | false;
  /**
   * Delayed emits (`setDelay()`, `setDeliverAt()`): this server's consumers move them into the event streams they
   * read when due. `false`: this server moves none (another consumer of the stream must). @default { pollMs: 1000, batchSize: 1000 }
   */
  scheduler?: SchedulerOptions | false;
  /**
   * Entries larger than this (all fields, UTF-8 bytes) go to the dead-letter stream with reason `decode`, which
   * keeps a prefix of each long value (`deadLetter.oversizedPrefixBytes`), not a copy. Checked after the read
   * unless `boundedReads` is on. @default 1048576 (1 MiB)
   */
  maxPayloadBytes?: number;
  /** Entries whose `data` (or headers) nest deeper than this go to the dead-letter stream with reason `decode`. @default 64 */
  maxPayloadDepth?: number;
  /**
   * Entries of more fields (name/value pairs) than this go to the dead-letter stream with reason `decode`. An
   * entry of this transport has at most 5; thousands cost every consumer time and memory. @default 1000
   */
  maxPayloadFields?: number;
  /**
   * Read the entries waiting through a Lua script that dead-letters those larger than maxPayloadBytes inside
   * Redis, so no read holds more than max(readBatchSize, streams) x maxPayloadBytes, plus the one entry per
   * stream that ends an idle wait. `false`: a plain XREADGROUP, which takes readBatchSize entries of any size
   * before checking (100 entries of 5 MB: over 1 GB in the consumer), for Redis CPU per entry about 2.5x lower
   * (bench/RESULTS.md). @default true
   */
  boundedReads?: boolean;
  /** `@EventPattern(p, transportId)` binds a handler to this transport only. @default REDIS_STREAMS_TRANSPORT */
  transportId?: symbol;
  /**
   * A handler call that has not settled after this long counts as a failed attempt (retried or
   * dead-lettered as usual). Its promise cannot be cancelled: it runs on, and its result is ignored.
   * @default undefined (no limit)
   */
  handlerTimeoutMs?: number;
  /**
   * The commands connection (acks, claims, dead-letter moves) is replaced when a command gets no reply for
   * this long: a frozen socket must not stop the consumer. @default 5000
   */
  commandTimeoutMs?: number;
  /**
   * Entries waiting for a retry, at most, before the reader stops reading new entries: during a downstream
   * outage the backlog stays in Redis instead of in memory. @default 4 * concurrency
   */
  maxWaitingRetries?: number;
  /** `brief`: one line per failed attempt, the stack trace only when the entry is dead-lettered. `full`: the stack every time. @default 'brief' */
  failureLogs?: 'brief' | 'full';
  /** Reads an entry's payload (`data`); must match the producers' serializer. @default JSON, with the maxPayloadDepth bound and the prototype checks */
  deserializer?: RedisStreamsDeserializer;
  /** Prometheus metrics (needs prom-client): `true` registers them in prom-client's default registry. @default false */
  metrics?: boolean | MetricsOptions;
  /** OpenTelemetry spans (needs @opentelemetry/api): `true` uses the global tracer provider. @default false */
  tracing?: boolean | TracingOptions;
}

/**
 * Options of `RedisStreamsServer`: its settings plus the connection, given as `connection` (ioredis options or
 * URL) or, as with Nest's Redis transport, as top-level `host`, `port`, `password`, ...
 */
export type RedisStreamsServerOptions = RedisStreamsServerSettings & ConnectionChoice;

/** Default transportId of RedisStreamsServer: `@EventPattern('x', REDIS_STREAMS_TRANSPORT)` binds to it only. */
export const REDIS_STREAMS_TRANSPORT = Symbol.for('nestream.RedisStreams');

/** Per-handler overrides, passed as `@EventPattern(pattern, extras)`. */
export interface RedisStreamsHandlerExtras {
  retry?: RetryOptions;
  /** Run this stream's entries one at a time, in stream order, retries included. @default false */
  ordered?: boolean;
  /** The handler gets an array of payloads (up to the entries read at once) and a RedisStreamBatchContext. @default false */
  batch?: boolean;
  /**
   * Spread the pattern over this many streams, `<pattern>:{0}` .. `<pattern>:{n-1}` (1 to 1024), recorded in Redis
   * at listen() so producers route without configuration (by the record's partition key, else round-robin).
   * With `ordered`, each partition is run by one consumer of the group at a time. Events only. @default undefined (one stream)
   */
  partitions?: number;
  /** This pattern's retention, key by key over the server's `retention`; `false` turns it off here. @default the server's */
  retention?: RetentionOptions | false;
  /**
   * At most `max` runs of this handler per `perMs`, across every consumer of the group (a token bucket in Redis).
   * Events only, not with `batch`. @default undefined (no limit)
   */
  rateLimit?: RateLimitOptions;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  type: 'exponential',
  delayMs: 1000,
  maxDelayMs: 30_000,
  jitter: 0.1,
};

export const DEFAULT_SERVER_OPTIONS = {
  connection: 'redis://127.0.0.1:6379' as ConnectionOptions,
  keyPrefix: '',
  startId: '$',
  // Nest's built-in transports set no limit at all; 256 keeps memory bounded while letting one XREADGROUP
  // and one XACK carry hundreds of entries (32 measured at 0.29x raw ioredis throughput, 256+ at 0.4-0.5x).
  concurrency: 256,
  readBatchSize: 256,
  // 2 s: short enough that close() and a dead socket are noticed quickly, long enough to cost nothing when idle.
  blockMs: 2000,
  watchdogMs: 5000,
  shutdownTimeoutMs: 10_000,
  ack: 'auto' as const,
  // Interruptions: a crash interrupts every entry in flight in the process, not only the one that caused it;
  // twice maxAttempts leaves an innocent entry room for a few crash loops and rolling restarts.
  retry: { maxAttempts: 5, maxInterruptions: 10, backoff: DEFAULT_BACKOFF },
  // Enough to recognise an oversized payload (its type, the ids JSON usually starts with); small enough that
  // a flood of oversized entries does not fill Redis with copies.
  oversizedPrefixBytes: 1024,
  claim: { intervalMs: 5000, minIdleMs: 30_000, batchSize: 100 },
  // A request held by a live server is renewed at every claim round (intervalMs): twice that tells a dead
  // server from a late round. 10 s: a request whose server crashed is taken over 10-15 s after its server
  // last touched it, well within a client's default requestTimeoutMs (30 s).
  requestMinIdleMs: 10_000,
  // Redis answers a healthy command in well under a millisecond; 5 s tells a frozen socket from a busy server.
  commandTimeoutMs: 5000,
  // Retries waiting in memory per concurrency slot before reading stops (see maxWaitingRetries).
  waitingRetriesPerSlot: 4,
  failureLogs: 'brief' as const,
  // The codec's bounds (wire/decode-limits.ts says why these numbers).
  maxPayloadBytes: DEFAULT_DECODE_LIMITS.maxBytes,
  maxPayloadDepth: DEFAULT_DECODE_LIMITS.maxDepth,
  maxPayloadFields: DEFAULT_DECODE_LIMITS.maxFields,
  // On: a consumer's memory is bounded by default, whatever producers write; the script costs Redis about 2.5x
  // the CPU of a plain XREADGROUP per entry (bench/RESULTS.md, issue 19): `false` for throughput when every
  // producer is trusted.
  boundedReads: true,
};

export interface ResolvedRetry {
  maxAttempts: number;
  maxInterruptions: number;
  backoff: Required<BackoffOptions>;
}

export interface ResolvedServerOptions {
  connection: ConnectionOptions;
  keyPrefix: string;
  group: string;
  consumer: string;
  startId: string;
  concurrency: number;
  readBatchSize: number;
  blockMs: number;
  watchdogMs: number;
  shutdownTimeoutMs: number;
  ack: 'auto' | 'manual';
  retry: ResolvedRetry;
  deadLetter: Required<Pick<DeadLetterOptions, 'key' | 'oversizedPrefixBytes'>> & { maxLen?: number } | false;
  claim: Required<ClaimOptions>;
  consumerCleanup: ConsumerCleanupOptions | false;
  retention: RetentionOptions | false;
  /** Undefined when off. */
  scheduler?: ResolvedScheduler;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
  maxPayloadFields: number;
  boundedReads: boolean;
  /** What decode() enforces, from maxPayloadBytes, maxPayloadDepth, maxPayloadFields and keyPrefix. */
  decodeLimits: DecodeLimits;
  transportId: symbol;
  handlerTimeoutMs?: number;
  commandTimeoutMs: number;
  maxWaitingRetries: number;
  failureLogs: 'brief' | 'full';
  deserializer?: RedisStreamsDeserializer;
  /** Undefined when off. */
  metrics?: ResolvedMetricsOptions;
  tracing?: ResolvedTracingOptions;
}

// The option tables: every accepted key and the check of its value. A key not in its table is an error.

const BACKOFF_OPTIONS: OptionTable<BackoffOptions> = {
  type: oneOf('exponential', 'fixed'),
  delayMs: nonNegative,
  maxDelayMs: nonNegative,
  jitter: (value, path) => {
    nonNegative(value, path);
    if ((value as number) > 1) throw new InvalidOptionsError(path, `must be between 0 and 1, got ${String(value)}`);
  },
};

const RETRY_OPTIONS: OptionTable<RetryOptions> = {
  maxAttempts: positiveInt,
  maxInterruptions: nonNegativeInt,
  backoff: nested(BACKOFF_OPTIONS),
};

const DEAD_LETTER_OPTIONS: OptionTable<DeadLetterOptions> = { key: func, maxLen: positiveInt, oversizedPrefixBytes: nonNegativeInt };

const CLAIM_OPTIONS: OptionTable<ClaimOptions> = { intervalMs: positiveInt, minIdleMs: positiveInt, requestMinIdleMs: positiveInt, batchSize: positiveInt };

const CONSUMER_CLEANUP_OPTIONS: OptionTable<ConsumerCleanupOptions> = { idleMs: positiveInt };

/** An object with the named method (serializer, deserializer). */
function withMethod(method: string): Check {
  return (value, path) => {
    if (typeof (value as Record<string, unknown>)?.[method] !== 'function') {
      throw new InvalidOptionsError(path, `must be an object with a ${method}() method`);
    }
  };
}

const SERVER_OPTIONS: OptionTable<RedisStreamsServerSettings & ConnectionField> = {
  connection,
  keyPrefix: string,
  group: nonEmptyString,
  consumer: nonEmptyString,
  startId: nonEmptyString,
  concurrency: positiveInt,
  readBatchSize: positiveInt,
  // BLOCK 0 would wait forever: the reader must wake up to notice shutdown and dead sockets.
  blockMs: positiveInt,
  watchdogMs: positiveInt,
  shutdownTimeoutMs: nonNegative,
  ack: oneOf('auto', 'manual'),
  retry: nested(RETRY_OPTIONS),
  deadLetter: falseOr(nested(DEAD_LETTER_OPTIONS)),
  claim: nested(CLAIM_OPTIONS),
  consumerCleanup: falseOr(nested(CONSUMER_CLEANUP_OPTIONS)),
  retention: retentionOption,
  scheduler: schedulerOption,
  maxPayloadBytes: positiveInt,
  maxPayloadDepth: positiveInt,
  maxPayloadFields: positiveInt,
  boundedReads: boolean,
  transportId: symbol,
  handlerTimeoutMs: positiveInt,
  commandTimeoutMs: positiveInt,
  maxWaitingRetries: positiveInt,
  failureLogs: oneOf('brief', 'full'),
  deserializer: withMethod('deserialize'),
  metrics: metricsOption,
  tracing: tracingOption,
};

/** A partition count: an integer from 1 to MAX_PARTITIONS. */
const partitionCount: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PARTITIONS) {
    throw new InvalidOptionsError(path, `must be an integer from 1 to ${MAX_PARTITIONS}, got ${typeof value === 'number' ? value : typeof value}`);
  }
};

const HANDLER_EXTRAS: OptionTable<RedisStreamsHandlerExtras> = {
  retry: nested(RETRY_OPTIONS),
  ordered: boolean,
  batch: boolean,
  partitions: partitionCount,
  retention: retentionOption,
  rateLimit: rateLimitOption,
};

/**
 * The claim settings. A request's min-idle defaults to 10 s, but never above minIdleMs (a shorter minIdleMs
 * covers requests too) nor under 2 x intervalMs (its server renews it once per round).
 */
function resolveClaim(given: ClaimOptions | undefined): Required<ClaimOptions> {
  const d = DEFAULT_SERVER_OPTIONS;
  const claim = { ...d.claim, ...definedOnly(given) };
  const requestMinIdleMs = given?.requestMinIdleMs ?? Math.min(claim.minIdleMs, Math.max(d.requestMinIdleMs, 2 * claim.intervalMs));
  if (given?.requestMinIdleMs !== undefined && requestMinIdleMs < 2 * claim.intervalMs) {
    throw new InvalidOptionsError(
      'claim.requestMinIdleMs',
      `is ${requestMinIdleMs}; it must be at least 2 x claim.intervalMs (${2 * claim.intervalMs}): a server renews the requests it runs once per claim round, and a live server's request must not be taken over`,
    );
  }
  return { ...claim, requestMinIdleMs };
}

export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Merges a retry override over a base and validates it. `path` names the option in errors. */
export function resolveRetry(base: ResolvedRetry, override: RetryOptions | undefined, path: string): ResolvedRetry {
  if (override !== undefined) checkOptions(RETRY_OPTIONS, override, path);
  const retry: ResolvedRetry = {
    maxAttempts: override?.maxAttempts ?? base.maxAttempts,
    maxInterruptions: override?.maxInterruptions ?? base.maxInterruptions,
    backoff: { ...base.backoff, ...definedOnly(override?.backoff) },
  };
  // A delayMs above the inherited cap, with no cap of its own, raises the cap rather than failing.
  if (override?.backoff?.maxDelayMs === undefined && retry.backoff.delayMs > retry.backoff.maxDelayMs) {
    retry.backoff.maxDelayMs = retry.backoff.delayMs;
  }
  if (retry.backoff.maxDelayMs < retry.backoff.delayMs) {
    throw new InvalidOptionsError(`${path}.backoff.maxDelayMs`, `must be >= backoff.delayMs (${retry.backoff.delayMs})`);
  }
  return retry;
}

/**
 * Checks the extras of `@EventPattern(pattern, extras)` / `@MessagePattern(pattern, extras)`: a misspelt
 * key (`{ retyr: ... }`) is an error at listen(), not a silently ignored setting. `where` names the handler.
 */
export function checkHandlerExtras(extras: unknown, where: string): RedisStreamsHandlerExtras {
  if (extras === undefined || extras === null) return {};
  checkOptions(HANDLER_EXTRAS, extras, `${where} extras`);
  return extras as RedisStreamsHandlerExtras;
}

/** Applies defaults and validates once, so a bad option fails at construction with the option's name. */
export function resolveServerOptions(options: RedisStreamsServerOptions): ResolvedServerOptions {
  if (!options || typeof options !== 'object') {
    throw new InvalidOptionsError('options', 'an options object with at least { group } is required');
  }
  checkOptions({ ...SERVER_OPTIONS, ...INLINE_CONNECTION_OPTIONS }, options, '', FOREIGN_KEY_HINTS);
  if (options.group === undefined) throw new InvalidOptionsError('group', 'is required: the consumer group to read with');
  const d = DEFAULT_SERVER_OPTIONS;
  const o = options as RedisStreamsServerSettings & ConnectionField;
  const keyPrefix = o.keyPrefix ?? d.keyPrefix;
  const maxPayloadBytes = o.maxPayloadBytes ?? d.maxPayloadBytes;
  const maxPayloadDepth = o.maxPayloadDepth ?? d.maxPayloadDepth;
  const maxPayloadFields = o.maxPayloadFields ?? d.maxPayloadFields;
  return {
    connection: resolveConnection(options, d.connection),
    keyPrefix,
    group: o.group,
    consumer: o.consumer ?? defaultConsumerName(),
    startId: o.startId ?? d.startId,
    concurrency: o.concurrency ?? d.concurrency,
    readBatchSize: o.readBatchSize ?? d.readBatchSize,
    blockMs: o.blockMs ?? d.blockMs,
    watchdogMs: o.watchdogMs ?? d.watchdogMs,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    ack: o.ack ?? d.ack,
    retry: resolveRetry(d.retry, o.retry, 'retry'),
    deadLetter:
      o.deadLetter === false
        ? false
        : {
            key: o.deadLetter?.key ?? ((stream: string) => `${stream}:dlq`),
            maxLen: o.deadLetter?.maxLen,
            oversizedPrefixBytes: o.deadLetter?.oversizedPrefixBytes ?? d.oversizedPrefixBytes,
          },
    claim: resolveClaim(o.claim),
    consumerCleanup: o.consumerCleanup ?? false,
    retention: o.retention ?? false,
    scheduler: resolveScheduler(o.scheduler),
    maxPayloadBytes,
    maxPayloadDepth,
    maxPayloadFields,
    boundedReads: o.boundedReads ?? d.boundedReads,
    decodeLimits: { ...DEFAULT_DECODE_LIMITS, maxBytes: maxPayloadBytes, maxDepth: maxPayloadDepth, maxFields: maxPayloadFields, replyPrefix: new StreamKeys(keyPrefix).replyPrefix() },
    transportId: o.transportId ?? REDIS_STREAMS_TRANSPORT,
    handlerTimeoutMs: o.handlerTimeoutMs,
    commandTimeoutMs: o.commandTimeoutMs ?? d.commandTimeoutMs,
    maxWaitingRetries: o.maxWaitingRetries ?? d.waitingRetriesPerSlot * (o.concurrency ?? d.concurrency),
    failureLogs: o.failureLogs ?? d.failureLogs,
    deserializer: o.deserializer,
    metrics: resolveMetricsOptions(o.metrics),
    tracing: resolveTracingOptions(o.tracing),
  };
}

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
  connection: DEFAULT_SERVER_OPTIONS.connection,
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

/** The keys whose value is not undefined: `{ delayMs: undefined }` must not override a default. */
function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
