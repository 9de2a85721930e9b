/** Exit codes: 0 done, 1 something failed (Redis, an unknown stream), 2 bad usage (arguments, options). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error the CLI reports as one line (`error: <message>`) and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(message: string, readonly exitCode: number = EXIT_FAILURE) {
    super(message);
  }
}

/** Bad arguments or options: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
