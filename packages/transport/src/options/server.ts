import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { StreamKeys } from '../keys.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../wire/decode-limits.js';
import type { RedisStreamsDeserializer } from '../wire/serializer.js';
import {
  boolean, checkOptions, falseOr, nested, nonEmptyString, nonNegative, oneOf, positiveInt, string, symbol, withMethod,
  type OptionTable,
} from './checks.js';
import { CLAIM_OPTIONS, DEFAULT_CLAIM, DEFAULT_REQUEST_MIN_IDLE_MS, resolveClaim, type ClaimOptions } from './claim.js';
import {
  connection, DEFAULT_CONNECTION, FOREIGN_KEY_HINTS, INLINE_CONNECTION_OPTIONS, resolveConnection,
  type ConnectionChoice, type ConnectionField, type ConnectionOptions,
} from './connection.js';
import {
  DEAD_LETTER_OPTIONS, DEFAULT_OVERSIZED_PREFIX_BYTES, resolveDeadLetter, type DeadLetterOptions, type ResolvedDeadLetter,
} from './dead-letter.js';
import {
  metricsOption, resolveMetricsOptions, resolveTracingOptions, tracingOption,
  type MetricsOptions, type ResolvedMetricsOptions, type ResolvedTracingOptions, type TracingOptions,
} from './observability.js';
import { retentionOption, type RetentionOptions } from './retention.js';
import { DEFAULT_BACKOFF, resolveRetry, RETRY_OPTIONS, type ResolvedRetry, type RetryOptions } from './retry.js';
import { resolveScheduler, schedulerOption, type ResolvedScheduler, type SchedulerOptions } from './scheduler.js';

/**
 * The options of `RedisStreamsServer`: what a user may give, the defaults, the table every key is checked
 * against, and what the consumer runs with (`ResolvedServerOptions`). The pieces the client or a handler's
 * extras share (connection, retry, dead letters, retention, ...) are in their own files beside this one.
 */

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

export const DEFAULT_SERVER_OPTIONS = {
  connection: DEFAULT_CONNECTION,
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
  // options/dead-letter.ts and options/claim.ts say why these.
  oversizedPrefixBytes: DEFAULT_OVERSIZED_PREFIX_BYTES,
  claim: DEFAULT_CLAIM,
  requestMinIdleMs: DEFAULT_REQUEST_MIN_IDLE_MS,
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
  deadLetter: ResolvedDeadLetter | false;
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

const CONSUMER_CLEANUP_OPTIONS: OptionTable<ConsumerCleanupOptions> = { idleMs: positiveInt };

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

export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
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
    deadLetter: resolveDeadLetter(o.deadLetter),
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
