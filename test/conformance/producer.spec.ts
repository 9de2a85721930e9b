import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FatalConnectionError, InvalidOptionsError, RedisStreamsClient, RedisUnavailableError, type RedisStreamsClientOptions } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { startProxy } from '../harness/freezable-proxy.js';
import { freePort, startRedis, type RedisServerOptions, type TestRedis } from '../harness/redis-server.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Problem 2 of issue 14 (the producer failed slowly: connect() resolved with Redis down, emit() rejected after
// ~10.5 s), and problem 8 (a malformed URL printed the password).

const servers: TestRedis[] = [];
const clients: RedisStreamsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.close()));
  await Promise.all(servers.splice(0).map(s => s.stop()));
});

async function newRedis(options: RedisServerOptions = {}): Promise<TestRedis> {
  const redis = await startRedis(options);
  servers.push(redis);
  return redis;
}

function newClient(options: RedisStreamsClientOptions): RedisStreamsClient {
  const client = new RedisStreamsClient(options);
  clients.push(client);
  return client;
}

/** How long `promise` takes to reject, and with what. */
async function rejection(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started };
  }
  throw new Error('expected a rejection, got a value');
}

describe('a producer with Redis unreachable', () => {
  it('connect() rejects after connectTimeoutMs (default 5 s) naming the option and the cause', async () => {
    const port = await freePort(); // nothing listens there
    const client = newClient({ connection: `redis://127.0.0.1:${port}` });
    const { error, ms } = await rejection(client.connect());
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error.message).toContain(`Redis (redis://127.0.0.1:${port}) not reachable within 5000 ms (option connectTimeoutMs)`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(ms).toBeGreaterThanOrEqual(4900);
    expect(ms).toBeLessThan(5000 + 3000);
  });

  it('emit() rejects after writeTimeoutMs (default 5 s), having written nothing', async () => {
    const port = await freePort();
    const client = newClient({ host: '127.0.0.1', port });
    const { error, ms } = await rejection(lastValueFrom(client.emit('orders.created', { id: 1 })));
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error.message).toMatch(/^emit\("orders\.created"\) failed: .* not reachable within 5000 ms \(option writeTimeoutMs\).*nothing was written$/);
    expect(ms).toBeLessThan(5000 + 3000);
  });

  it('send() and emitMany() reject within their limits too', async () => {
    const port = await freePort();
    const client = newClient({ host: '127.0.0.1', port, connectTimeoutMs: 300, writeTimeoutMs: 300 });
    const sent = await rejection(lastValueFrom(client.send('math.sum', [1, 2])));
    expect(sent.error.message).toContain('option connectTimeoutMs'); // Nest's send() connects first
    const many = await rejection(client.emitMany('orders.created', [{ id: 1 }, { id: 2 }]));
    expect(many.error.message).toContain('emitMany("orders.created") failed');
    expect(many.error.message).toContain('option writeTimeoutMs');
  });

  it('bounds the writes waiting for a connection (offlineQueueLimit): more reject at once', async () => {
    const port = await freePort();
    const client = newClient({ host: '127.0.0.1', port, offlineQueueLimit: 3, writeTimeoutMs: 2000 });
    const waiting = [1, 2, 3].map(n => rejection(client.emitMany('q', [{ n }])));
    const { error, ms } = await rejection(client.emitMany('q', [{ n: 4 }]));
    expect(error.message).toContain('3 writes are already waiting');
    expect(error.message).toContain('option offlineQueueLimit');
    expect(ms).toBeLessThan(1000);
    for (const w of await Promise.all(waiting)) expect(w.error.message).toContain('option writeTimeoutMs');
  });

  it('fails fast while a SIGKILLed Redis is down, and writes again once it is back', async () => {
    const redis = await newRedis();
    const pattern = uniqueName('killed');
    const client = newClient({ connection: redis.url, writeTimeoutMs: 1000 });
    await client.connect();
    let stop = false;
    const outcomes: Array<'ok' | string> = [];
    // A producer emitting all along: every emit settles, none hangs.
    const producing = (async () => {
      for (let n = 0; !stop; n++) {
        const started = Date.now();
        const outcome = await client.emitMany(pattern, [{ n }]).then(() => 'ok', (e: Error) => `${e.name} after ${Date.now() - started} ms`);
        outcomes.push(outcome);
        if (outcome !== 'ok') await new Promise(r => setTimeout(r, 50));
      }
    })();
    await waitFor(() => outcomes.length >= 20, 'emits before the kill');
    await redis.kill();
    await waitFor(() => outcomes.filter(o => o !== 'ok').length >= 3, 'emits failing while Redis is down');
    await redis.start();
    const okBefore = outcomes.filter(o => o === 'ok').length;
    await waitFor(() => outcomes.filter(o => o === 'ok').length > okBefore + 5, 'emits succeeding again after the restart', 15_000);
    stop = true;
    await producing;
    const failures = outcomes.filter(o => o !== 'ok');
    for (const f of failures) {
      expect(f).toMatch(/^RedisUnavailableError after \d+ ms$/);
      expect(Number(/after (\d+)/.exec(f)![1])).toBeLessThan(1000 + 2000);
    }
  });

  it('rejects a write sent on a frozen connection after writeTimeoutMs and recovers on a new connection', async () => {
    const redis = await newRedis();
    const proxy = await startProxy(redis.port);
    try {
      const client = newClient({ connection: proxy.url, writeTimeoutMs: 1000 });
      await client.emitMany('frozen', [{ n: 1 }]);
      proxy.freeze('nestream:producer');
      const { error } = await rejection(client.emitMany('frozen', [{ n: 2 }]));
      expect(error.message).toContain('no answer from Redis');
      expect(error.message).toContain('may or may not have been added');
      await waitFor(async () => (await client.emitMany('frozen', [{ n: 3 }]).then(() => true, () => false)), 'a write over a new connection');
    } finally {
      await Promise.all(clients.splice(0).map(c => c.close()));
      await proxy.close();
    }
  });
});

describe('a producer Redis refuses', () => {
  it('connect() and emit() reject at once on a wrong password (WRONGPASS), without showing it', async () => {
    const redis = await newRedis({ password: 'right-pw' });
    const client = newClient({ host: '127.0.0.1', port: redis.port, password: 'wrong-pw' });
    const connect = await rejection(client.connect());
    expect(connect.error).toBeInstanceOf(FatalConnectionError);
    expect(connect.error.message).toContain('WRONGPASS');
    expect(connect.error.message).toContain(`redis://:***@127.0.0.1:${redis.port}`);
    expect(connect.error.message).not.toContain('wrong-pw');
    expect(connect.ms).toBeLessThan(2000);
    const emit = await rejection(lastValueFrom(client.emit('x', 1)));
    expect(emit.error).toBeInstanceOf(FatalConnectionError);
    expect(emit.ms).toBeLessThan(1000);
  });

  it('an emit to a demoted master (READONLY) rejects with RedisUnavailableError saying nothing was written', async () => {
    // What a producer meets in a failover: its Redis became a replica and refuses writes it never ran.
    const master = await newRedis();
    const replica = await newRedis();
    await replica.client().call('REPLICAOF', '127.0.0.1', String(master.port));
    const client = newClient({ connection: replica.url });
    const { error } = await rejection(lastValueFrom(client.emit(uniqueName('readonly'), 1)));
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error.message).toMatch(/is failing over or restarting \(READONLY .*\); nothing was written/);
    expect((error as RedisUnavailableError).sent).toBe(false);
  });

  it('connect() rejects at once without a password where one is required (NOAUTH)', async () => {
    const redis = await newRedis({ password: 'pw' });
    const { error, ms } = await rejection(newClient({ connection: redis.url }).connect());
    expect(error).toBeInstanceOf(FatalConnectionError);
    expect(error.message).toContain('NOAUTH');
    expect(ms).toBeLessThan(2000);
  });

  it('connects with the right password given in the Nest shape, to the server named', async () => {
    const redis = await newRedis({ password: 'pw' });
    const client = newClient({ host: '127.0.0.1', port: redis.port, password: 'pw' });
    expect(client.options.connection).toEqual({ host: '127.0.0.1', port: redis.port, password: 'pw' });
    const id = await lastValueFrom(client.emit('nest-shape', { a: 1 }));
    expect(await redis.client().xrange('nest-shape', id, id)).toHaveLength(1);
  });

  it('connect() rejects at once on a TLS certificate it does not trust', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestream-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      const tlsPort = await freePort();
      await newRedis({
        args: ['--port', '0', '--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', join(dir, 'cert.pem'), '--tls-auth-clients', 'no'],
      });
      const { error, ms } = await rejection(newClient({ host: 'localhost', port: tlsPort, tls: {} }).connect());
      expect(error).toBeInstanceOf(FatalConnectionError);
      expect(error.message).toContain('self-signed certificate');
      expect(ms).toBeLessThan(2000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('connection strings', () => {
  it.each([
    'redis://user:s3cret-pw@[::1:6379',
    'redis://:s3cret-pw@ho st:6379',
    'redis://:s3cret-pw@localhost:99999',
    'redis://:s3cret%zz-pw@localhost:6379',
    'user:s3cret-pw@localhost:abc',
  ])('a malformed one fails at construction without its password: %s', url => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const make = () => new RedisStreamsClient({ connection: url });
      expect(make).toThrow(InvalidOptionsError);
      expect(make).toThrow(/"connection": .*\*\*\*@/);
      expect(make).not.toThrow(/s3cret/);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.join('\n')).not.toContain('s3cret');
  });

  it('shows no password in the errors of an unreachable Redis', async () => {
    const port = await freePort();
    const client = newClient({ connection: `redis://app:s3cret-pw@127.0.0.1:${port}/0`, connectTimeoutMs: 200 });
    const { error } = await rejection(client.connect());
    expect(error.message).toContain(`redis://app:***@127.0.0.1:${port}/0`);
    expect(error.message).not.toContain('s3cret');
  });
});
