import { brand } from '../brand.js';

/**
 * Redis did not take a write (or become ready) in time: it is down, unreachable or not answering. The
 * message names the option that set the limit; `cause` is the last connection error seen, if any.
 * A write that timed out while already sent may still have been added: retrying can duplicate it
 * (consumers see at-least-once delivery either way).
 */
export class RedisUnavailableError extends Error {
  static {
    brand(this, 'RedisUnavailableError');
  }

  override readonly name = 'RedisUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
