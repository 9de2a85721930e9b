import type { BackoffOptions } from '../options.js';

/**
 * Delay before attempt `attempt + 1`, after `attempt` failed calls (attempt >= 1).
 * Jitter only lengthens the delay, so "no sooner than the backoff" holds.
 */
export function backoffDelay(backoff: Required<BackoffOptions>, attempt: number, random: () => number = Math.random): number {
  const base = backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(base, backoff.maxDelayMs);
  return Math.round(capped + capped * backoff.jitter * random());
}
