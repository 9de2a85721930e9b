import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkOptions, isObject, positiveInt, type Check, type OptionTable } from './checks.js';

/**
 * Safe retention (`retention` on the server, or per pattern in the handler extras): the consumers trim their
 * streams, at most once per `intervalMs`, only below what every consumer group of the stream has read and
 * acknowledged. A group that is behind or stopped holds the stream back; it never loses an entry. Unlike the
 * producer's `maxLen`, which trims whatever is oldest, read or not.
 */
export interface RetentionOptions {
  /** Keep about this many entries: read-and-acked entries beyond it are trimmed (approximately, whole nodes). */
  maxLen?: number;
  /** Read-and-acked entries older than this (by their id's time, Redis's clock) are trimmed. */
  maxAgeMs?: number;
  /**
   * An emergency cap for memory: the stream is trimmed to about this many entries even if a group has not
   * read them. Dropping unread entries is logged as a warning each time and reported in the `retention` event.
   * @default undefined (never drops an unread entry)
   */
  hardMaxLen?: number;
  /** How often each stream is trimmed, at most. @default 10000 */
  intervalMs?: number;
}

/** What a consumer applies to one stream. */
export interface ResolvedRetention {
  maxLen?: number;
  maxAgeMs?: number;
  hardMaxLen?: number;
  intervalMs: number;
}

// Often enough that a stream stays near its bound, rarely enough that the XINFO + XPENDING per group cost nothing.
export const DEFAULT_RETENTION_INTERVAL_MS = 10_000;

const RETENTION_OPTIONS: OptionTable<RetentionOptions> = {
  maxLen: positiveInt,
  maxAgeMs: positiveInt,
  hardMaxLen: positiveInt,
  intervalMs: positiveInt,
};

/** `false`, or `{ maxLen?, maxAgeMs?, hardMaxLen?, intervalMs? }` with at least one bound. */
export const retentionOption: Check = (value, path) => {
  if (value === false) return;
  if (!isObject(value)) throw new InvalidOptionsError(path, 'must be false or { maxLen?, maxAgeMs?, hardMaxLen?, intervalMs? }, e.g. { maxLen: 100000 }');
  checkOptions(RETENTION_OPTIONS, value, path);
  if (value.maxLen === undefined && value.maxAgeMs === undefined && value.hardMaxLen === undefined) {
    throw new InvalidOptionsError(path, 'needs a bound: maxLen, maxAgeMs or hardMaxLen');
  }
  if (value.hardMaxLen !== undefined && value.maxLen !== undefined && (value.hardMaxLen as number) < (value.maxLen as number)) {
    throw new InvalidOptionsError(`${path}.hardMaxLen`, `must be >= maxLen (${String(value.maxLen)}): it is the emergency cap above the safe bound`);
  }
};

/**
 * A stream's retention: the handler's extras over the server's option, key by key (`false` in the extras turns
 * it off for that pattern). Undefined when off.
 */
export function resolveRetention(server: RetentionOptions | false | undefined, handler: RetentionOptions | false | undefined): ResolvedRetention | undefined {
  if (handler === false) return undefined;
  const merged = { ...(server || {}), ...(handler || {}) };
  if (merged.maxLen === undefined && merged.maxAgeMs === undefined && merged.hardMaxLen === undefined) return undefined;
  return { maxLen: merged.maxLen, maxAgeMs: merged.maxAgeMs, hardMaxLen: merged.hardMaxLen, intervalMs: merged.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS };
}
