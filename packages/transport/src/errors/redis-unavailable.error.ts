import { brand } from '../brand.js';

/**
 * Redis did not take a write (or become ready) in time: it is down, unreachable or not answering. The
 * message names the option that set the limit; `cause` is the last connection error seen, if any, and
 * `code` its code (`ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`...), as Nest's own clients' errors carry it.
 * A write that timed out while already sent may still have been added (`sent` is true): retrying can duplicate
 * it, unless it carries an idempotency key (consumers see at-least-once delivery either way).
 */
export class RedisUnavailableError extends Error {
  static {
    brand(this, 'RedisUnavailableError');
  }

  override readonly name: string = 'RedisUnavailableError';
  /** The cause's `code` (a Node.js socket error code such as `ECONNREFUSED`), when it has one. */
  readonly code?: string;
  /**
   * True when the write had been sent when it failed (no answer, or the connection lost while writing): it may
   * or may not have been added. False when it was never sent (Redis not reachable in time, queue full, closed).
   */
  readonly sent: boolean;

  constructor(message: string, options?: { cause?: unknown; sent?: boolean }) {
    super(message, options);
    this.sent = options?.sent ?? false;
    const code = (options?.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') this.code = code;
  }
}
