// A throwaway redis-server (from PATH) on a free loopback port, in its own temp dir, no persistence; or a
// master with one replica (replicatedRedisServers), for the durable-emit scenario.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedisServer({ timeoutMs = 10_000, replicaOf, args = [] } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nestream-bench-redis-'));
  const proc = spawn(
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      proc.stdout.on('data', b => {
        out += b;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.stderr.on('data', b => (out += b));
      proc.once('error', err => {
        clearTimeout(timer);
        reject(new Error(`could not start redis-server (is it on PATH?): ${err.message}`));
      });
      proc.once('exit', code => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${out}`));
      });
    });
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  proc.stdout.resume();
  proc.stderr.resume();
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise(r => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A master and one replica of it, both throwaway; resolves once the replica is online (in sync). */
export async function startReplicatedRedisServers({ timeoutMs = 20_000 } = {}) {
  const { Redis } = await import('ioredis');
  const master = await startRedisServer();
  let replica;
  const redis = new Redis(master.url);
  try {
    replica = await startRedisServer({ replicaOf: master.port });
    const deadline = Date.now() + timeoutMs;
    while (!/slave0:.*state=online/.test(await redis.info('replication'))) {
      if (Date.now() > deadline) throw new Error(`the replica did not come online within ${timeoutMs} ms`);
      await new Promise(r => setTimeout(r, 50));
    }
  } catch (err) {
    await replica?.stop();
    await master.stop();
    throw err;
  } finally {
    redis.disconnect();
  }
  return {
    url: master.url,
    master,
    replica,
    async stop() {
      await replica.stop();
      await master.stop();
    },
  };
}
