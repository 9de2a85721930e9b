/** Thrown by the server and client constructors when an option is missing or out of range. */
export class InvalidOptionsError extends Error {
  override readonly name = 'InvalidOptionsError';

  constructor(option: string, problem: string) {
    super(`Invalid nestream option "${option}": ${problem}`);
  }
}
