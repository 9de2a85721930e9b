import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server started for a test file: its URL, and stop() (SIGKILL, then its temp dir removed). */
export interface ThrowawayRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` from PATH on a free port of 127.0.0.1, without persistence, in a temp dir, and resolves
 * once it accepts connections (rejects with its log if it exits first). For `beforeAll`; `stop()` in `afterAll`.
 */
export async function startThrowawayRedis(options: { bin?: string; args?: string[] } = {}): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nestream-testing-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])];
  const proc = spawn(options.bin ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await ready(proc);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise(r => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ready(proc: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (b: Buffer) => {
      log += b.toString();
      if (log.includes('Ready to accept connections')) {
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        proc.stderr?.resume();
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    proc.once('error', err => reject(new Error(`could not start redis-server (is it on PATH?): ${err.message}`)));
    proc.once('exit', code => reject(new Error(`redis-server exited with ${code} before accepting connections:\n${log}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
