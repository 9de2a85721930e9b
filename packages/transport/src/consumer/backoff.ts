import type { BackoffOptions } from '../options/retry.js';

/**
 * Delay before attempt `attempt + 1`, after `attempt` failed calls (attempt >= 1).
 * Jitter only lengthens the delay, so "no sooner than the backoff" holds.
 */
export function backoffDelay(backoff: Required<BackoffOptions>, attempt: number, random: () => number = Math.random): number {
  const base = backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(base, backoff.maxDelayMs);
  return Math.round(capped + capped * backoff.jitter * random());
}

/** `minMs` doubled per failure so far (0: minMs), at most `maxMs`: how the loops back off from Redis errors. */
export function doublingDelay(minMs: number, maxMs: number, failures: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, failures), 20));
}
