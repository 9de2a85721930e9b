import { brand } from '../brand.js';
import { RedisUnavailableError } from './redis-unavailable.error.js';

/**
 * The client was closed while a call waited: a connect() still connecting, a write waiting for the
 * connection (not written), a send() waiting for its reply (the request may have been handled). A
 * RedisUnavailableError, as such failures were before, so existing `instanceof` checks still match.
 */
export class ClientClosedError extends RedisUnavailableError {
  static {
    brand(this, 'ClientClosedError');
  }

  override readonly name: string = 'ClientClosedError';
}
