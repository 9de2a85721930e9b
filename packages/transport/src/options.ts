import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RedisOptions } from 'ioredis';
import { InvalidOptionsError } from './errors/invalid-options.error.js';
import type { MetricsOptions, TracingOptions } from './observability/observability-options.js';

/** How the connection to Redis is made: an ioredis options object or a `redis://` URL. */
export type ConnectionOptions = RedisOptions | string;

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
  /** Handler calls in all, the first included, before the entry is dead-lettered. @default 5 */
  maxAttempts?: number;
  backoff?: BackoffOptions;
}

export interface DeadLetterOptions {
  /** Dead-letter stream of a source stream. @default stream => `${stream}:dlq` */
  key?: (stream: string) => string;
  /** Approximate cap of each dead-letter stream (XADD MAXLEN ~). @default undefined (no cap) */
  maxLen?: number;
}

export interface ClaimOptions {
  /** How often the claim loop runs (XAUTOCLAIM per stream, lease renewal). @default 5000 */
  intervalMs?: number;
  /** An entry pending longer than this with another consumer is taken over. @default 30000 */
  minIdleMs?: number;
  /** Entries claimed per stream per run, at most (also bounded by free slots). @default 100 */
  batchSize?: number;
}

export interface ConsumerCleanupOptions {
  /** Consumers of the group idle longer than this and with no pending entries are deleted. */
  idleMs: number;
}

/** Options of `RedisStreamsServer`. Only `group` is required. */
export interface RedisStreamsServerOptions {
  /** ioredis options or URL. @default 'redis://127.0.0.1:6379' */
  connection?: ConnectionOptions;
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
  /** Entries whose encoded size exceeds this go to the dead-letter stream with reason `decode`. @default undefined (no limit) */
  maxPayloadBytes?: number;
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
  /** Prometheus metrics (needs prom-client): `true` registers them in prom-client's default registry. @default false */
  metrics?: boolean | MetricsOptions;
  /** OpenTelemetry spans (needs @opentelemetry/api): `true` uses the global tracer provider. @default false */
  tracing?: boolean | TracingOptions;
}

/** Default transportId of RedisStreamsServer: `@EventPattern('x', REDIS_STREAMS_TRANSPORT)` binds to it only. */
export const REDIS_STREAMS_TRANSPORT = Symbol.for('nestream.RedisStreams');

/** Per-handler overrides, passed as `@EventPattern(pattern, extras)`. */
export interface RedisStreamsHandlerExtras {
  retry?: RetryOptions;
  /** Run this stream's entries one at a time, in stream order, retries included. @default false */
  ordered?: boolean;
  /** The handler gets an array of payloads (up to the entries read at once) and a RedisStreamBatchContext. @default false */
  batch?: boolean;
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
  retry: { maxAttempts: 5, backoff: DEFAULT_BACKOFF },
  claim: { intervalMs: 5000, minIdleMs: 30_000, batchSize: 100 },
  // Redis answers a healthy command in well under a millisecond; 5 s tells a frozen socket from a busy server.
  commandTimeoutMs: 5000,
  // Retries waiting in memory per concurrency slot before reading stops (see maxWaitingRetries).
  waitingRetriesPerSlot: 4,
  failureLogs: 'brief' as const,
};

export interface ResolvedRetry {
  maxAttempts: number;
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
  deadLetter: Required<Pick<DeadLetterOptions, 'key'>> & { maxLen?: number } | false;
  claim: Required<ClaimOptions>;
  consumerCleanup: ConsumerCleanupOptions | false;
  maxPayloadBytes?: number;
  transportId: symbol;
  handlerTimeoutMs?: number;
  commandTimeoutMs: number;
  maxWaitingRetries: number;
  failureLogs: 'brief' | 'full';
}

export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function positiveInt(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionsError(name, `must be an integer >= 1, got ${String(value)}`);
  }
}

function nonNegative(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(name, `must be a finite number >= 0, got ${String(value)}`);
  }
}

function nonEmptyString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionsError(name, `must be a non-empty string, got ${JSON.stringify(value)}`);
  }
}

/** Merges a retry override over a base and validates it. `path` names the option in errors. */
export function resolveRetry(base: ResolvedRetry, override: RetryOptions | undefined, path: string): ResolvedRetry {
  if (override !== undefined && (typeof override !== 'object' || override === null)) {
    throw new InvalidOptionsError(path, 'must be an object');
  }
  const retry: ResolvedRetry = {
    maxAttempts: override?.maxAttempts ?? base.maxAttempts,
    backoff: { ...base.backoff, ...(override?.backoff ?? {}) },
  };
  // A delayMs above the inherited cap, with no cap of its own, raises the cap rather than failing.
  if (override?.backoff?.maxDelayMs === undefined && retry.backoff.delayMs > retry.backoff.maxDelayMs) {
    retry.backoff.maxDelayMs = retry.backoff.delayMs;
  }
  positiveInt(`${path}.maxAttempts`, retry.maxAttempts);
  const b = retry.backoff;
  if (b.type !== 'exponential' && b.type !== 'fixed') {
    throw new InvalidOptionsError(`${path}.backoff.type`, `must be 'exponential' or 'fixed', got ${JSON.stringify(b.type)}`);
  }
  nonNegative(`${path}.backoff.delayMs`, b.delayMs);
  nonNegative(`${path}.backoff.maxDelayMs`, b.maxDelayMs);
  if (b.maxDelayMs < b.delayMs) {
    throw new InvalidOptionsError(`${path}.backoff.maxDelayMs`, `must be >= backoff.delayMs (${b.delayMs})`);
  }
  if (typeof b.jitter !== 'number' || !(b.jitter >= 0 && b.jitter <= 1)) {
    throw new InvalidOptionsError(`${path}.backoff.jitter`, `must be between 0 and 1, got ${String(b.jitter)}`);
  }
  return retry;
}

/** Applies defaults and validates once, so a bad option fails at construction with the option's name. */
export function resolveServerOptions(options: RedisStreamsServerOptions): ResolvedServerOptions {
  if (!options || typeof options !== 'object') {
    throw new InvalidOptionsError('options', 'an options object with at least { group } is required');
  }
  const d = DEFAULT_SERVER_OPTIONS;
  nonEmptyString('group', options.group);
  const resolved: ResolvedServerOptions = {
    connection: options.connection ?? d.connection,
    keyPrefix: options.keyPrefix ?? d.keyPrefix,
    group: options.group,
    consumer: options.consumer ?? defaultConsumerName(),
    startId: options.startId ?? d.startId,
    concurrency: options.concurrency ?? d.concurrency,
    readBatchSize: options.readBatchSize ?? d.readBatchSize,
    blockMs: options.blockMs ?? d.blockMs,
    watchdogMs: options.watchdogMs ?? d.watchdogMs,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    ack: options.ack ?? d.ack,
    retry: resolveRetry(d.retry, options.retry, 'retry'),
    deadLetter:
      options.deadLetter === false
        ? false
        : { key: options.deadLetter?.key ?? ((stream: string) => `${stream}:dlq`), maxLen: options.deadLetter?.maxLen },
    claim: { ...d.claim, ...(options.claim ?? {}) },
    consumerCleanup: options.consumerCleanup ?? false,
    maxPayloadBytes: options.maxPayloadBytes,
    transportId: options.transportId ?? REDIS_STREAMS_TRANSPORT,
    handlerTimeoutMs: options.handlerTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs ?? d.commandTimeoutMs,
    maxWaitingRetries: options.maxWaitingRetries ?? d.waitingRetriesPerSlot * (options.concurrency ?? d.concurrency),
    failureLogs: options.failureLogs ?? d.failureLogs,
  };
  if (typeof resolved.keyPrefix !== 'string') throw new InvalidOptionsError('keyPrefix', 'must be a string');
  nonEmptyString('consumer', resolved.consumer);
  nonEmptyString('startId', resolved.startId);
  positiveInt('concurrency', resolved.concurrency);
  positiveInt('readBatchSize', resolved.readBatchSize);
  // BLOCK 0 would wait forever: the reader must wake up to notice shutdown and dead sockets.
  positiveInt('blockMs', resolved.blockMs);
  positiveInt('watchdogMs', resolved.watchdogMs);
  nonNegative('shutdownTimeoutMs', resolved.shutdownTimeoutMs);
  if (resolved.ack !== 'auto' && resolved.ack !== 'manual') {
    throw new InvalidOptionsError('ack', `must be 'auto' or 'manual', got ${JSON.stringify(resolved.ack)}`);
  }
  positiveInt('claim.intervalMs', resolved.claim.intervalMs);
  positiveInt('claim.minIdleMs', resolved.claim.minIdleMs);
  positiveInt('claim.batchSize', resolved.claim.batchSize);
  if (resolved.deadLetter !== false) {
    if (typeof resolved.deadLetter.key !== 'function') throw new InvalidOptionsError('deadLetter.key', 'must be a function (stream) => key');
    if (resolved.deadLetter.maxLen !== undefined) positiveInt('deadLetter.maxLen', resolved.deadLetter.maxLen);
  }
  if (resolved.consumerCleanup !== false) positiveInt('consumerCleanup.idleMs', resolved.consumerCleanup?.idleMs);
  if (resolved.maxPayloadBytes !== undefined) positiveInt('maxPayloadBytes', resolved.maxPayloadBytes);
  if (typeof resolved.transportId !== 'symbol') throw new InvalidOptionsError('transportId', 'must be a symbol');
  if (resolved.handlerTimeoutMs !== undefined) positiveInt('handlerTimeoutMs', resolved.handlerTimeoutMs);
  positiveInt('commandTimeoutMs', resolved.commandTimeoutMs);
  positiveInt('maxWaitingRetries', resolved.maxWaitingRetries);
  if (resolved.failureLogs !== 'brief' && resolved.failureLogs !== 'full') {
    throw new InvalidOptionsError('failureLogs', `must be 'brief' or 'full', got ${JSON.stringify(resolved.failureLogs)}`);
  }
  return resolved;
}

/** Options of `RedisStreamsClient`. */
export interface RedisStreamsClientOptions {
  /** ioredis options or URL. @default 'redis://127.0.0.1:6379' */
  connection?: ConnectionOptions;
  /** Prepended to every pattern to make its stream key; must match the server's. @default '' */
  keyPrefix?: string;
  /** Approximate cap for every stream written (XADD MAXLEN ~ n). @default undefined (no trimming) */
  maxLen?: number;
  /** Per-pattern caps, overriding maxLen. @default {} */
  maxLenByPattern?: Record<string, number>;
  /** Default request-reply timeout of client.send(). @default 30000 */
  requestTimeoutMs?: number;
  /** Prometheus metrics (needs prom-client): `true` registers them in prom-client's default registry. @default false */
  metrics?: boolean | MetricsOptions;
  /** OpenTelemetry spans (needs @opentelemetry/api): `true` uses the global tracer provider. @default false */
  tracing?: boolean | TracingOptions;
}

export interface ResolvedClientOptions {
  connection: ConnectionOptions;
  keyPrefix: string;
  maxLen?: number;
  maxLenByPattern: Record<string, number>;
  requestTimeoutMs: number;
}

export function resolveClientOptions(options: RedisStreamsClientOptions = {}): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionsError('options', 'must be an object');
  const resolved: ResolvedClientOptions = {
    connection: options.connection ?? DEFAULT_SERVER_OPTIONS.connection,
    keyPrefix: options.keyPrefix ?? '',
    maxLen: options.maxLen,
    maxLenByPattern: options.maxLenByPattern ?? {},
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
  };
  if (typeof resolved.keyPrefix !== 'string') throw new InvalidOptionsError('keyPrefix', 'must be a string');
  if (resolved.maxLen !== undefined) positiveInt('maxLen', resolved.maxLen);
  for (const [pattern, n] of Object.entries(resolved.maxLenByPattern)) positiveInt(`maxLenByPattern.${pattern}`, n);
  positiveInt('requestTimeoutMs', resolved.requestTimeoutMs);
  return resolved;
}
