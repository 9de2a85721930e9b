import { brand } from '../brand.js';

/** Thrown by the server and client constructors when an option is missing or out of range. */
export class InvalidOptionsError extends Error {
  static {
    brand(this, 'InvalidOptionsError');
  }

  override readonly name = 'InvalidOptionsError';

  constructor(option: string, problem: string) {
    super(`Invalid nestream option "${option}": ${problem}`);
  }
}
