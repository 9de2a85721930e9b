import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';
import { freePort, startRedis, type TestRedis } from '../harness/redis-server.js';
import { startProxy } from '../harness/freezable-proxy.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const apps: TestApp[] = [];
const clients: RedisStreamsClient[] = [];
const servers: TestRedis[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map(a => a.close()));
  await Promise.all(clients.splice(0).map(c => c.close()));
  await Promise.all(servers.splice(0).map(s => s.stop()));
});

async function newRedis(opts: { appendonly?: boolean; port?: number } = {}): Promise<TestRedis> {
  const r = await startRedis(opts);
  servers.push(r);
  return r;
}

function recorder(pattern: string, handled: Map<number, number>) {
  @Controller()
  class Recorder {
    @EventPattern(pattern)
    handle(@Payload() data: { n: number }) {
      handled.set(data.n, (handled.get(data.n) ?? 0) + 1);
    }
  }
  return Recorder;
}

async function pending(redis: TestRedis, stream: string): Promise<number> {
  return ((await redis.client().xpending(stream, 'g')) as [number])[0];
}

describe('trimmed entries', () => {
  it('cleans up pending ids whose entries were trimmed, with no endless claim loop', async () => {
    const redis = await newRedis();
    const pattern = uniqueName('trimmed');
    const r = redis.client();
    await r.xgroup('CREATE', pattern, 'g', '$', 'MKSTREAM');
    for (let i = 0; i < 300; i++) await r.xadd(pattern, '*', 'data', JSON.stringify({ n: i }));
    // Two consumers that read and vanish: 'ghost' (claimed by others) and 'me' (restarted under that name).
    await r.xreadgroup('GROUP', 'g', 'ghost', 'COUNT', 150, 'STREAMS', pattern, '>');
    await r.xreadgroup('GROUP', 'g', 'me', 'COUNT', 150, 'STREAMS', pattern, '>');
    await r.xtrim(pattern, 'MAXLEN', 0);
    for (let i = 300; i < 310; i++) await r.xadd(pattern, '*', 'data', JSON.stringify({ n: i }));
    expect(await pending(redis, pattern)).toBe(300);

    const handled = new Map<number, number>();
    const deleted: string[] = [];
    const claims: number[] = [];
    const app = await startApp([recorder(pattern, handled)], {
      connection: redis.url, group: 'g', consumer: 'me', claim: { minIdleMs: 100, intervalMs: 100 },
    });
    apps.push(app);
    app.server.on('deleted', e => deleted.push(...e.ids));
    app.server.on('claimed', e => claims.push(e.ids.length));
    await waitFor(async () => (await pending(redis, pattern)) === 0 && handled.size === 10, 'pending drained, new entries handled');
    expect([...handled.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 300 + i));
    // Every trimmed id was reported once as deleted, none handed to the handler or claimed again.
    await waitFor(() => deleted.length >= 150, 'ghost ids reported');
    expect(new Set(deleted).size).toBe(deleted.length);
    expect(claims).toEqual([]);
  });
});

describe('connection faults', () => {
  it('handles every one of 5,000 events through CLIENT KILL and a redis-server restart, leaving none pending', async () => {
    const redis = await newRedis({ appendonly: true });
    const pattern = uniqueName('faults');
    const handled = new Map<number, number>();
    const app = await startApp([recorder(pattern, handled)], {
      connection: redis.url, group: 'g', consumer: 'c1', blockMs: 500, claim: { minIdleMs: 1000, intervalMs: 250 },
    });
    apps.push(app);
    const client = new RedisStreamsClient({ connection: redis.url });
    clients.push(client);
    // An at-least-once producer: a batch whose XADDs failed is sent again.
    const emitRange = async (from: number, to: number) => {
      for (let i = from; i < to; i += 250) {
        const batch = Array.from({ length: Math.min(250, to - i) }, (_, k) => ({ n: i + k }));
        for (;;) {
          try {
            await client.emitMany(pattern, batch);
            break;
          } catch {
            await new Promise(r => setTimeout(r, 100));
          }
        }
      }
    };
    await emitRange(0, 2000);
    await waitFor(() => handled.size >= 500, 'some events handled');
    const killed = await redis.client().client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    expect(Number(killed)).toBeGreaterThanOrEqual(2);
    await emitRange(2000, 3500);
    await waitFor(() => handled.size >= 2500, 'handling resumed after CLIENT KILL');
    await redis.kill();
    await redis.start();
    await emitRange(3500, 5000);
    await waitFor(() => handled.size === 5000, 'all 5,000 events handled', 45_000);
    await waitFor(async () => (await pending(redis, pattern)) === 0, 'nothing pending', 20_000);
  });

  it('recreates a deleted stream and group (NOGROUP) and goes on', async () => {
    const redis = await newRedis();
    const pattern = uniqueName('nogroup');
    const handled = new Map<number, number>();
    apps.push(await startApp([recorder(pattern, handled)], { connection: redis.url, group: 'g', blockMs: 200 }));
    const client = new RedisStreamsClient({ connection: redis.url });
    clients.push(client);
    await client.emitMany(pattern, [{ n: 1 }]);
    await waitFor(() => handled.has(1), 'first event');
    await redis.client().del(pattern);
    // The group is recreated at startId ($): wait until it exists again before emitting.
    await waitFor(async () => (await redis.client().exists(pattern)) === 1, 'the group recreated');
    await client.emitMany(pattern, [{ n: 2 }]);
    await waitFor(() => handled.has(2), 'event after the stream was deleted');
  });

  it('starts while Redis is down without crashing, reports it, and reads once Redis is up', async () => {
    const port = await freePort();
    const pattern = uniqueName('late');
    const handled = new Map<number, number>();
    const statuses: string[] = [];
    const server = new RedisStreamsServer({ connection: { port, host: '127.0.0.1' }, group: 'g', startId: '0' });
    server.status.subscribe(s => statuses.push(s));
    const started = Date.now();
    apps.push(await startApp([recorder(pattern, handled)], server));
    expect(Date.now() - started).toBeLessThan(15_000);
    await waitFor(() => statuses.includes('reconnecting'), 'reconnecting reported');
    const redis = await newRedis({ port });
    await redis.client().xadd(pattern, '*', 'data', '{"n":7}');
    await waitFor(() => handled.has(7), 'the event handled once Redis is up', 30_000);
    // Reported as it happens: the read loop may handle the first entry a moment before the status says so.
    await waitFor(() => statuses.includes('connected'), 'connected reported');
  });

  it('closes within shutdownTimeoutMs while Redis is unreachable', async () => {
    const redis = await newRedis();
    const pattern = uniqueName('unreachable');
    const app = await startApp([recorder(pattern, new Map())], { connection: redis.url, group: 'g', shutdownTimeoutMs: 1000 });
    await redis.kill();
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(1000 + 1500);
  });
});


describe('hung connections', () => {
  it('recycles a reader connection whose XREADGROUP never returns (watchdog) and goes on reading', async () => {
    const redis = await newRedis();
    const proxy = await startProxy(redis.port);
    try {
      const pattern = uniqueName('watchdog');
      const handled = new Map<number, number>();
      const app = await startApp([recorder(pattern, handled)], {
        connection: proxy.url, group: 'g', blockMs: 200, watchdogMs: 300, claim: { minIdleMs: 1000, intervalMs: 200 },
      });
      apps.push(app);
      const client = new RedisStreamsClient({ connection: redis.url });
      clients.push(client);
      await client.emitMany(pattern, [{ n: 1 }]);
      await waitFor(() => handled.has(1), 'first event');
      // The reader's connection now hangs: its blocked read never comes back.
      proxy.freeze('nestream:reader');
      await client.emitMany(pattern, [{ n: 2 }]);
      await waitFor(() => handled.has(2), 'the event after the freeze, read over a new connection', 15_000);
      await waitFor(async () => (await pending(redis, pattern)) === 0, 'nothing pending', 15_000);
    } finally {
      await Promise.all(apps.splice(0).map(a => a.close()));
      await proxy.close();
    }
  });

  it('renews the lease of a long-running handler so no other consumer takes its entry', async () => {
    const redis = await newRedis();
    const pattern = uniqueName('lease');
    const calls: string[] = [];
    const slowRecorder = (name: string) => {
      @Controller()
      class Slow {
        @EventPattern(pattern)
        async handle() {
          calls.push(name);
          await new Promise(r => setTimeout(r, 2500));
        }
      }
      return Slow;
    };
    const options = { connection: redis.url, group: 'g', claim: { minIdleMs: 600, intervalMs: 100 } };
    apps.push(await startApp([slowRecorder('a')], { ...options, consumer: 'a' }));
    const client = new RedisStreamsClient({ connection: redis.url });
    clients.push(client);
    await client.emitMany(pattern, [{ n: 1 }]);
    await waitFor(() => calls.length === 1, 'the handler started');
    apps.push(await startApp([slowRecorder('b')], { ...options, consumer: 'b' }));
    await waitFor(async () => (await pending(redis, pattern)) === 0, 'the entry acked', 10_000);
    // Four times minIdleMs went by with consumer b claiming every 100 ms: the entry was never taken from a.
    expect(calls).toEqual(['a']);
  });
});

describe('consumer hygiene', () => {
  it('removes idle consumers without pending entries, never one with pending entries', async () => {
    const redis = await newRedis();
    const pattern = uniqueName('hygiene');
    const r = redis.client();
    await r.xgroup('CREATE', pattern, 'g', '$', 'MKSTREAM');
    await r.xadd(pattern, '*', 'data', '{"n":1}');
    await r.xreadgroup('GROUP', 'g', 'gone-with-pending', 'COUNT', 1, 'STREAMS', pattern, '>');
    await r.xgroup('CREATECONSUMER', pattern, 'g', 'gone-empty');
    await new Promise(res => setTimeout(res, 300)); // both consumers must be idle longer than idleMs
    apps.push(await startApp([recorder(pattern, new Map())], {
      connection: redis.url, group: 'g', consumer: 'me', consumerCleanup: { idleMs: 250 }, claim: { minIdleMs: 60_000, intervalMs: 100 },
    }));
    const names = async () => ((await r.xinfo('CONSUMERS', pattern, 'g')) as unknown[][]).map(row => String(row[1]));
    await waitFor(
      async () => (await names()).filter(n => n !== 'me').join() === 'gone-with-pending',
      'the empty idle consumer removed, the one with a pending entry kept',
    );
    expect(await names()).toContain('gone-with-pending');
    expect(await pending(redis, pattern)).toBe(1);
  });
});
