import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/wait.js';

/** The `nestream` command as npm links it (`npx nestream`): the package's bin, running the built dist/. */
export const NESTREAM_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'cli', 'bin', 'nestream.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment (REDIS_URL is never inherited from the outer environment). */
  env?: Record<string, string>;
  /** Written to stdin, then stdin is closed. */
  input?: string;
}

/** A running `nestream` process whose output is collected as it comes. */
export interface RunningCli {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Waits until stdout or stderr (both, concatenated) satisfies `check`. */
  waitForOutput(check: (stdout: string, stderr: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  exited: Promise<CliResult>;
}

const running = new Set<ChildProcess>();

// A test that fails half way must not leave a `--watch` or `tail` running (jest would never exit).
afterEach(async () => {
  await Promise.all(
    [...running].map(child => {
      const exited = new Promise(resolve => child.once('close', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
});

export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env?.REDIS_URL) delete env.REDIS_URL;
  const child = spawn(process.execPath, [NESTREAM_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdin!.end(options.input ?? '');
  running.add(child);
  const exited = new Promise<CliResult>(resolve =>
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitForOutput: (check, what, timeoutMs) => waitFor(() => check(stdout, stderr), what, timeoutMs),
    exited,
  };
}

/** Runs `nestream <args>` to its end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

/** Consumer idle times are the only volatile part of the status table: `<idle>`. */
export function maskIdle(text: string): string {
  return text.replace(/ \d+(\.\d+)?(ms|s|m|h|d)(\d+[smh])?$/gm, ' <idle>');
}
