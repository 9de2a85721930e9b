import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkOptions, isObject, positiveInt, type Check, type OptionTable } from './checks.js';

/**
 * A rate limit on a handler (`rateLimit` in the `@EventPattern` extras), shared by every consumer of the group
 * (a token bucket in Redis): at most `max` handler runs per `perMs`, in bursts of up to `max` after a quiet
 * spell. For handlers that call a rate-limited API. An entry waiting for its turn holds its concurrency slot.
 */
export interface RateLimitOptions {
  /** Handler runs per window (and the largest burst). */
  max: number;
  /** The window, ms. */
  perMs: number;
}

const RATE_LIMIT_OPTIONS: OptionTable<RateLimitOptions> = {
  max: positiveInt,
  perMs: positiveInt,
};

/** `{ max, perMs }`, both required. */
export const rateLimitOption: Check = (value, path) => {
  if (!isObject(value)) throw new InvalidOptionsError(path, 'must be { max, perMs }, e.g. { max: 10, perMs: 1000 } for 10 runs a second');
  checkOptions(RATE_LIMIT_OPTIONS, value, path);
  for (const key of ['max', 'perMs'] as const) {
    if (value[key] === undefined) throw new InvalidOptionsError(`${path}.${key}`, 'is required: a rate limit is { max, perMs }');
  }
};
