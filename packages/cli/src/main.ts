#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, EXIT_USAGE } from './cli-error.js';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander printed its one line already (or the help, or the version: exit code 0).
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    const error = err instanceof CliError ? err : new CliError((err as Error)?.message ?? String(err));
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error.exitCode;
  }
}
// Connections are closed by now, but ioredis keeps a 2 s timer after a disconnect: exit once the output is out.
await new Promise(resolve => process.stdout.write('', resolve));
await new Promise(resolve => process.stderr.write('', resolve));
process.exit();
