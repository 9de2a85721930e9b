import { RedisCommandError } from './redis-command.error.js';
import { brand } from '../brand.js';

/** A command and key the Redis user may not use. */
export interface MissingPermission {
  command: string;
  key: string;
}

/**
 * The Redis user lacks an ACL permission the transport needs (Redis answered NOPERM). Thrown by `listen()` and by
 * the first use on the client; names every missing command and key, and the ACL rule that grants each.
 * `command` and `key` are those of the first one.
 */
export class PermissionError extends RedisCommandError {
  static {
    brand(this, 'PermissionError');
  }

  override readonly name = 'PermissionError';
  /** Every command and key found missing (at least one). */
  readonly missing: MissingPermission[];

  constructor(missing: MissingPermission[], cause?: unknown) {
    const list = missing.map(m => (m.key ? `${m.command} on "${m.key}"` : m.command)).join(', ');
    const rules = missing.map(m => `+${m.command.toLowerCase().replace(' ', '|')}${m.key ? ` ~${m.key}` : ''}`).join(', ');
    super(
      missing[0].command,
      missing[0].key,
      cause,
      `NOPERM: the Redis user may not run ${list}. Grant it in the user's ACL (${rules}, or a key pattern that covers it); ` +
        'the rules the transport needs: https://github.com/nestream/nestream/blob/main/docs/guide/security.md',
    );
    this.missing = missing;
  }
}
