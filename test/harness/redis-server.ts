import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { closeClients } from './close-clients.js';
import { freePort, killProcess, spawnRedisServer } from './redis-process.js';

/** A redis-server started by the tests (from PATH) on a free port, in its own temp dir. */
export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** A new ioredis connection to it (closed by stop()). */
  client(): Redis;
  /** SIGKILL the server (its data stays in dir if appendonly is on). */
  kill(): Promise<void>;
  /** Start it again on the same port and dir. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export { freePort };

export interface RedisServerOptions {
  appendonly?: boolean;
  port?: number;
  /** requirepass: the server asks for this password (the helper clients send it). */
  password?: string;
  /** More redis-server arguments (e.g. TLS settings); later ones override earlier ones. */
  args?: string[];
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<TestRedis> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'nestream-redis-'));
  const clients: Redis[] = [];
  let proc: ChildProcess | undefined;

  const start = async () => {
    proc = await spawnRedisServer([
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', opts.appendonly ? 'yes' : 'no', '--appendfsync', 'always', '--protected-mode', 'no',
      ...(opts.password ? ['--requirepass', opts.password] : []),
      ...(opts.args ?? []),
    ]);
  };
  const kill = () => killProcess(proc);

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    client() {
      const c = new Redis(port, '127.0.0.1', { lazyConnect: false, password: opts.password });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    kill,
    start,
    async stop() {
      await closeClients(clients);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
