import { brand } from '../brand.js';

/**
 * Redis did not take a write (or become ready) in time: it is down, unreachable or not answering. The
 * message names the option that set the limit; `cause` is the last connection error seen, if any, and
 * `code` its code (`ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`...), as Nest's own clients' errors carry it.
 * A write that timed out while already sent may still have been added: retrying can duplicate it
 * (consumers see at-least-once delivery either way).
 */
export class RedisUnavailableError extends Error {
  static {
    brand(this, 'RedisUnavailableError');
  }

  override readonly name: string = 'RedisUnavailableError';
  /** The cause's `code` (a Node.js socket error code such as `ECONNREFUSED`), when it has one. */
  readonly code?: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const code = (options?.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') this.code = code;
  }
}
