import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkOptions, nested, nonNegative, nonNegativeInt, oneOf, positiveInt, type OptionTable } from './checks.js';
import { definedOnly } from './defined-only.js';

/** How long a failed entry waits before its next attempt. */
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

/** The server's `retry` option, and a handler's (`@EventPattern(pattern, { retry })`) over it. */
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

/** A route's retry policy: every value given. */
export interface ResolvedRetry {
  maxAttempts: number;
  maxInterruptions: number;
  backoff: Required<BackoffOptions>;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  type: 'exponential',
  delayMs: 1000,
  maxDelayMs: 30_000,
  jitter: 0.1,
};

const BACKOFF_OPTIONS: OptionTable<BackoffOptions> = {
  type: oneOf('exponential', 'fixed'),
  delayMs: nonNegative,
  maxDelayMs: nonNegative,
  jitter: (value, path) => {
    nonNegative(value, path);
    if ((value as number) > 1) throw new InvalidOptionsError(path, `must be between 0 and 1, got ${String(value)}`);
  },
};

export const RETRY_OPTIONS: OptionTable<RetryOptions> = {
  maxAttempts: positiveInt,
  maxInterruptions: nonNegativeInt,
  backoff: nested(BACKOFF_OPTIONS),
};

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
