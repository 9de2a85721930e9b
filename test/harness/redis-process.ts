import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks it; nothing listens there when this resolves). */
export async function freePort(): Promise<number> {
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

/** n different free ports (the OS can hand out the same one to two calls of freePort). */
export async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** What a redis-server prints once it serves clients; a Sentinel prints its id instead. */
export const SERVER_READY = 'Ready to accept connections';
export const SENTINEL_READY = 'Sentinel ID is';

/**
 * Spawns `redis-server` (from PATH) with these arguments and resolves once its log has `readyLine`; rejects
 * with the log when it exits before. Its stderr goes to the test's stderr, its stdout is drained after that.
 */
export async function spawnRedisServer(args: string[], readyLine = SERVER_READY): Promise<ChildProcess> {
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes(readyLine)) {
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.once('error', reject);
    proc.once('exit', code => reject(new Error(`redis-server ${args.join(' ')} exited with ${code}: ${out}`)));
  });
  return proc;
}

/** SIGKILLs a process the harness started and waits for its exit (nothing to do when it is gone already). */
export async function killProcess(proc: ChildProcess | undefined): Promise<void> {
  if (!proc) return;
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise(r => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
  proc.stdout?.destroy();
}
