import { createWriteStream, type WriteStream } from 'node:fs';
import { dim, out, yellow } from './terminal.js';

/** Nest's ConsoleLogger line start: `[mailer] 4242  - 11/27/2026, 7:55:08 AM     LOG ` (the terminal shows `LOG `). */
const NEST_PREFIX = /^\[[\w-]+\] \d+\s+- .*?\s+(FATAL|ERROR|WARN|LOG|DEBUG|VERBOSE) /;

/** Which service lines reach the terminal without --verbose: errors, dead letters, take-overs, start and stop. */
const NOTABLE = /\b(ERROR|FATAL)\b|Dead-lettered|[Cc]laimed|took back|ready: |stopped/;

/**
 * Every line of every service goes to one log file; the terminal shows the notable ones (all with --verbose,
 * none with --quiet). The last lines are kept for the report of a failed run.
 */
export class ServiceLog {
  private readonly file: WriteStream;
  private readonly tail: string[] = [];

  constructor(
    readonly path: string,
    private readonly mode: 'quiet' | 'normal' | 'verbose',
  ) {
    this.file = createWriteStream(path);
  }

  line(service: string, text: string): void {
    const line = `${service.padEnd(12)}│ ${text}`;
    this.file.write(line + '\n');
    this.tail.push(line);
    if (this.tail.length > 300) this.tail.shift();
    if (this.mode === 'verbose' || (this.mode === 'normal' && NOTABLE.test(text))) {
      const short = text.replace(NEST_PREFIX, '$1 ');
      out(`  ${dim(`${service.padEnd(12)}│`)} ${/^(ERROR|WARN|FATAL)\b/.test(short) ? yellow(short) : short}`);
    }
  }

  lastLines(): string[] {
    return [...this.tail];
  }

  close(): Promise<void> {
    return new Promise(resolve => this.file.end(() => resolve()));
  }
}
