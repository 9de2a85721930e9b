import { brand } from '../brand.js';

/**
 * Redis refused this client in a way retrying will not fix: a wrong password or user (WRONGPASS, NOAUTH),
 * missing permissions (NOPERM), or a TLS certificate the client does not trust. `cause` is Redis's or
 * Node's error.
 */
export class FatalConnectionError extends Error {
  static {
    brand(this, 'FatalConnectionError');
  }

  override readonly name = 'FatalConnectionError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
