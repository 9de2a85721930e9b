import { brand } from '../brand.js';

/**
 * Redis refused a command the transport sent (an error reply: WRONGTYPE, OOM, NOPERM...). Names the command and
 * the key, so the log line says what to fix; the reply itself is `cause`.
 */
export class RedisCommandError extends Error {
  static {
    brand(this, 'RedisCommandError');
  }

  override readonly name: string = 'RedisCommandError';

  constructor(
    /** The command, upper case (`XADD`, `XGROUP CREATE`). */
    readonly command: string,
    /** The key it was sent for ('' for a command without one, such as MULTI). */
    readonly key: string,
    cause: unknown,
    message = `${command}${key ? ` on "${key}"` : ''} failed: ${(cause as Error)?.message ?? String(cause)}`,
  ) {
    super(message, { cause });
  }
}
