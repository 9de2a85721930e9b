import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { positiveInt, type OptionTable } from './checks.js';
import { definedOnly } from './defined-only.js';

/** The server's `claim` option: when entries another consumer left pending are taken over. */
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

export const DEFAULT_CLAIM = { intervalMs: 5000, minIdleMs: 30_000, batchSize: 100 };

// A request held by a live server is renewed at every claim round (intervalMs): twice that tells a dead
// server from a late round. 10 s: a request whose server crashed is taken over 10-15 s after its server
// last touched it, well within a client's default requestTimeoutMs (30 s).
export const DEFAULT_REQUEST_MIN_IDLE_MS = 10_000;

export const CLAIM_OPTIONS: OptionTable<ClaimOptions> = { intervalMs: positiveInt, minIdleMs: positiveInt, requestMinIdleMs: positiveInt, batchSize: positiveInt };

/**
 * The claim settings. A request's min-idle defaults to 10 s, but never above minIdleMs (a shorter minIdleMs
 * covers requests too) nor under 2 x intervalMs (its server renews it once per round).
 */
export function resolveClaim(given: ClaimOptions | undefined): Required<ClaimOptions> {
  const claim = { ...DEFAULT_CLAIM, ...definedOnly(given) };
  const requestMinIdleMs = given?.requestMinIdleMs ?? Math.min(claim.minIdleMs, Math.max(DEFAULT_REQUEST_MIN_IDLE_MS, 2 * claim.intervalMs));
  if (given?.requestMinIdleMs !== undefined && requestMinIdleMs < 2 * claim.intervalMs) {
    throw new InvalidOptionsError(
      'claim.requestMinIdleMs',
      `is ${requestMinIdleMs}; it must be at least 2 x claim.intervalMs (${2 * claim.intervalMs}): a server renews the requests it runs once per claim round, and a live server's request must not be taken over`,
    );
  }
  return { ...claim, requestMinIdleMs };
}
