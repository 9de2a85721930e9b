import type { DeadLetterKeys } from '../options/dead-letter.js';
import type { RedisClient } from '../redis/redis-client.js';

/**
 * What the consumer and the client tell an observer (metrics, tracing) about their work. They call these
 * synchronously on their hot path: implementations must be cheap and must not throw. NO_INSTRUMENTATION is
 * used when nothing is configured (compare with it to skip building the arguments).
 */

/** One entry of an attempt, as the handler sees it. */
export interface AttemptEntry {
  id: string;
  deliveryCount: number;
  headers: Record<string, string>;
  /** Size of the entry's `data` field in bytes, when known (span attribute `messaging.message.body.size`). */
  bodySize?: number;
}

/** One handler call: a single entry, or the entries of a batch handler's call. */
export interface AttemptInfo {
  stream: string;
  group: string;
  pattern: string;
  batch: boolean;
  entries: readonly AttemptEntry[];
}

/** How each entry of the attempt ended: `failure` includes a thrown error, a timeout and a rejected guard. */
export type AttemptOutcome = 'success' | 'failure';

/** The life of one handler call. */
export interface AttemptObservation {
  /** Runs the handler call (inside its CONSUMER span's context, so the handler's own emits continue the trace). */
  run<T>(fn: () => T): T;
  /** The call ended: one outcome per entry, and the error when any failed. */
  end(outcomes: readonly AttemptOutcome[], error?: unknown): void;
}

/** What the gauges of a running consumer are read from (XINFO on scrape, at most once per `metrics.refreshMs`). */
export interface WatchedConsumer {
  /** The command connection (not the blocking reader). */
  redis: RedisClient;
  group: string;
  streams: readonly string[];
  /** The dead-letter stream of each source stream (none with `deadLetter: false`). */
  deadLetterKeys: DeadLetterKeys;
}

export interface ConsumerInstrumentation {
  attempt(info: AttemptInfo): AttemptObservation;
  /** An entry went to the dead-letter stream (or was dropped); with `entry`, the trace shows it too. */
  deadLettered(stream: string, reason: string, entry?: AttemptEntry): void;
  /** Entries left by another consumer were taken over. */
  claimed(stream: string, count: number): void;
  /** A retention run trimmed entries: `safe` ones every group had read and acked, `hard` ones by hardMaxLen. */
  retentionTrimmed(stream: string, safe: number, hard: number): void;
  /** A handler call of an ordered partition ended after this consumer's lease on the partition was lost. */
  lateCompletion(stream: string): void;
  /** Entries disappeared (trimmed, XDELed) before they were handled: `unread` by the group, or `pending` with it. */
  trimmed(stream: string, reason: TrimReason, count: number): void;
  /** listen(): report this consumer's gauges from now on. Returns what close() calls to stop. */
  watch(consumer: WatchedConsumer): () => void;
}

/** Where a trimmed entry was: never read by the group (`unread`), or read and not settled yet (`pending`). */
export type TrimReason = 'unread' | 'pending';

/** One XADD (emit, send) or one emitMany call of the client. */
export interface SendObservation {
  /** The headers to write instead of the entry's own (theirs plus `traceparent` / `tracestate`), or undefined to keep them. */
  readonly headers: Record<string, string> | undefined;
  /** The XADD is done: counts the entries sent (`ids` given), ends the PRODUCER span either way. */
  end(ids: string | string[] | undefined, error?: unknown): void;
  /** `xadd` (its promise), calling end() when it settles. */
  track<T>(xadd: Promise<T>): Promise<T>;
}

export interface ProducerInstrumentation {
  /** Before encoding `count` entries for `stream` (emitMany: several, one span for the call). */
  send(stream: string, headers: Record<string, string> | undefined, count: number, correlationId?: string): SendObservation;
}

const NO_OBSERVATION: AttemptObservation = {
  run: fn => fn(),
  end: () => undefined,
};

const NO_WATCH = () => undefined;

export const NO_INSTRUMENTATION: ConsumerInstrumentation = {
  attempt: () => NO_OBSERVATION,
  deadLettered: () => undefined,
  claimed: () => undefined,
  retentionTrimmed: () => undefined,
  lateCompletion: () => undefined,
  trimmed: () => undefined,
  watch: () => NO_WATCH,
};

/** Bytes of an entry's `data` field (its flat field list as read), for `AttemptEntry.bodySize`. */
export function bodySizeOf(fields: readonly string[] | null | undefined): number | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'data') return Buffer.byteLength(fields[i + 1]);
  return undefined;
}
