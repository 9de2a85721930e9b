import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

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
    proc = spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
        '--appendonly', opts.appendonly ? 'yes' : 'no', '--appendfsync', 'always', '--protected-mode', 'no',
        ...(opts.password ? ['--requirepass', opts.password] : []),
        ...(opts.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const p = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          p.stdout?.off('data', onData);
          p.stdout?.resume();
          resolve();
        }
      };
      p.stdout?.on('data', onData);
      p.once('error', reject);
      p.once('exit', code => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
  };

  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise(r => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    p.stdout?.destroy();
  };

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
      // quit() closes cleanly; disconnect() would leave ioredis's 2 s socket-close timer behind.
      await Promise.all(
        clients.map(async c => {
          if (c.status !== 'ready') return c.disconnect();
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<void>(resolve => (timer = setTimeout(() => (c.disconnect(), resolve()), 500)));
          await Promise.race([c.quit().catch(() => c.disconnect()), late]);
          clearTimeout(timer);
        }),
      );
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
