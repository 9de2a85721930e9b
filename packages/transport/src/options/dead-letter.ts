import { func, nonNegativeInt, positiveInt, type OptionTable } from './checks.js';

/** The server's `deadLetter` option: where entries that will not be retried again go. */
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

/** The `deadLetter` option with its defaults; `false` (dead letters dropped) stays `false`. */
export type ResolvedDeadLetter = Required<Pick<DeadLetterOptions, 'key' | 'oversizedPrefixBytes'>> & { maxLen?: number };

/**
 * Each stream's dead-letter stream, resolved once when the streams are known (at listen(), from the routes):
 * the parts that dead-letter read it here. A stream is absent when dead letters are dropped (`deadLetter: false`).
 */
export type DeadLetterKeys = ReadonlyMap<string, string>;

/** Where a stream's dead letters go unless `deadLetter.key` says otherwise (the server's, the admin's and the CLI's). */
export const defaultDeadLetterKey = (stream: string): string => `${stream}:dlq`;

// Enough to recognise an oversized payload (its type, the ids JSON usually starts with); small enough that
// a flood of oversized entries does not fill Redis with copies.
export const DEFAULT_OVERSIZED_PREFIX_BYTES = 1024;

export const DEAD_LETTER_OPTIONS: OptionTable<DeadLetterOptions> = { key: func, maxLen: positiveInt, oversizedPrefixBytes: nonNegativeInt };

/** The option with its defaults (checked already, with the server's table). */
export function resolveDeadLetter(given: DeadLetterOptions | false | undefined): ResolvedDeadLetter | false {
  if (given === false) return false;
  return {
    key: given?.key ?? defaultDeadLetterKey,
    maxLen: given?.maxLen,
    oversizedPrefixBytes: given?.oversizedPrefixBytes ?? DEFAULT_OVERSIZED_PREFIX_BYTES,
  };
}

/** The dead-letter stream of `stream`, or undefined when dead letters are dropped: the one place that asks `deadLetter.key`. */
export function deadLetterKeyOf(deadLetter: ResolvedDeadLetter | false, stream: string): string | undefined {
  return deadLetter === false ? undefined : deadLetter.key(stream);
}
