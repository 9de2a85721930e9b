import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** sample/dist/, the built services and tools (this file runs as sample/dist/demo/infrastructure.js, or from source in the tests). */
export const SAMPLE_DIST = basename(dirname(here)) === 'dist' ? dirname(here) : join(dirname(here), 'dist');

/** A process the demo started and stops at the end. */
export interface Started {
  url: string;
  stop(): Promise<void>;
  /** For process.on('exit'): no waiting. */
  killNow(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The version of `redis-server` on the PATH (or REDIS_SERVER), or undefined when there is none. */
export function redisServerVersion(binary: string): string | undefined {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  if (probe.error || probe.status !== 0) throw new Error(`"${binary} --version" failed: ${probe.error?.message ?? probe.stderr}`);
  return probe.stdout.match(/v=(\S+)/)?.[1] ?? 'unknown version';
}

/** A private redis-server on a free port, its data in `dir` (appendonly, as in docker-compose.yml). */
export async function startRedis(binary: string, dir: string): Promise<Started> {
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--protected-mode', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(child, 'Ready to accept connections', 'redis-server');
  return stoppable(child, `redis://127.0.0.1:${port}`);
}

/** The embedded Postgres (sample/tools/embedded-postgres) as a child process. */
export async function startEmbeddedPostgres(): Promise<Started> {
  const child = spawn(process.execPath, [join(SAMPLE_DIST, 'tools/embedded-postgres/main.js')], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('message', (message: { type?: string; url?: string }) => message?.type === 'ready' && resolve(message.url!));
    child.once('exit', code => reject(new Error(`embedded Postgres exited with code ${code}: ${output}`)));
  });
  child.stdout!.resume();
  return stoppable(child, url);
}

/** Runs sample/tools/migrate.js against `databaseUrl`; resolves with what it printed. */
export function runMigrations(databaseUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(SAMPLE_DIST, 'tools/migrate.js')], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', code => (code === 0 ? resolve(output.trim()) : reject(new Error(`migrations failed:\n${output}`))));
  });
}

function waitForOutput(child: ChildProcess, text: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes(text)) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', code => reject(new Error(`${what} exited with code ${code}:\n${output}`)));
  });
}

function stoppable(child: ChildProcess, url: string): Started {
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
    killNow() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
