import { brand } from '../brand.js';

/**
 * Throw from a handler to skip the remaining attempts: the entry goes straight to the dead-letter
 * stream. Checked with `instanceof`, so subclasses work too.
 */
export class UnrecoverableEventError extends Error {
  static {
    brand(this, 'UnrecoverableEventError');
  }

  override readonly name: string = 'UnrecoverableEventError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
