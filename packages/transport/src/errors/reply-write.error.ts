import { brand } from '../brand.js';

/** A request's reply could not be written to its caller's reply stream (the handler itself had run). */
export class ReplyWriteError extends Error {
  static {
    brand(this, 'ReplyWriteError');
  }

  override readonly name = 'ReplyWriteError';

  constructor(replyTo: string, cause: unknown) {
    super(`could not write the reply to ${replyTo}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}
