import { brand } from '../brand.js';

/** A handler did not settle within handlerTimeoutMs: the attempt counts as failed (the call itself goes on). */
export class HandlerTimeoutError extends Error {
  static {
    brand(this, 'HandlerTimeoutError');
  }

  override readonly name = 'HandlerTimeoutError';

  constructor(timeoutMs: number) {
    super(`handler did not settle within ${timeoutMs} ms (option handlerTimeoutMs); it counts as failed, its call is not cancelled`);
  }
}
