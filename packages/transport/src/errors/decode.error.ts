import { brand } from '../brand.js';

/** An entry that cannot be turned into a handler call. It is dead-lettered with reason `decode`. */
export class DecodeError extends Error {
  static {
    brand(this, 'DecodeError');
  }

  override readonly name = 'DecodeError';
}
