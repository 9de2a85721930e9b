import 'reflect-metadata';
import { Controller, Get, Inject, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern } from '@nestjs/microservices';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { RedisStreamsServer } from '@nestream/transport';
import { RedisStreamsHealthIndicator, type RedisStreamsHealthOptions } from '@nestream/transport/health';
import { startProxy, type FreezableProxy } from '../harness/freezable-proxy.js';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// GET /health through Terminus over real HTTP: 200 when fine, 503 with a reason for each kind of failure,
// never a 500 (the indicator used to throw on a missing stream).

interface Running {
  http: INestApplication;
  server: RedisStreamsServer;
  pattern: string;
  get(): Promise<{ status: number; body: any }>;
}

let redis: TestRedis;
let proxy: FreezableProxy | undefined;
let running: Running | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await running?.http.close();
  running = undefined;
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await redis?.stop();
});

/** A hybrid app: one @EventPattern on a RedisStreamsServer, and GET /health checking it with the indicator. */
async function start(url: string, health: RedisStreamsHealthOptions, server: Partial<ConstructorParameters<typeof RedisStreamsServer>[0]> = {}): Promise<Running> {
  const pattern = uniqueName('health');
  const strategy = new RedisStreamsServer({ connection: url, group: 'g', shutdownTimeoutMs: 100, ...server });
  @Controller()
  class Streams {
    @EventPattern(pattern)
    handle() {
      return new Promise(() => undefined); // never settles: its entries stay pending
    }
  }
  @Controller()
  class Health {
    constructor(
      @Inject(HealthCheckService) private readonly health: HealthCheckService,
      @Inject(RedisStreamsHealthIndicator) private readonly streams: RedisStreamsHealthIndicator,
    ) {}

    @Get('health')
    @HealthCheck()
    check() {
      return this.health.check([() => this.streams.isHealthy('streams', strategy, health)]);
    }
  }
  @Module({ imports: [TerminusModule.forRoot({ logger: false })], controllers: [Streams, Health], providers: [RedisStreamsHealthIndicator] })
  class HealthModule {}
  const http = await NestFactory.create(HealthModule, { logger: false });
  http.connectMicroservice({ strategy });
  await http.startAllMicroservices();
  await http.listen(0, '127.0.0.1');
  const base = await http.getUrl();
  running = {
    http, server: strategy, pattern,
    async get() {
      const res = await fetch(`${base}/health`);
      return { status: res.status, body: await res.json() };
    },
  };
  return running;
}

/** Waits until the consumer's reader is blocked in XREADGROUP (its connection exists and a read is in flight). */
async function readerBlocked(): Promise<void> {
  await waitFor(async () => {
    const clients = String(await redis.client().call('CLIENT', 'LIST')).split('\n');
    return clients.some(c => / name=nestream:reader /.test(c) && / cmd=xreadgroup/.test(c) && / flags=b/.test(c));
  }, 'the reader blocked in XREADGROUP');
}

function expectDown(res: { status: number; body: any }, reason: string, message: RegExp) {
  expect(res.status).toBe(503);
  expect(res.body.error.streams).toMatchObject({ status: 'down', reason, message: expect.stringMatching(message) });
}

describe('GET /health with RedisStreamsHealthIndicator', () => {
  it('answers 200 when Redis answers and the thresholds hold', async () => {
    const app = await start(redis.url, { maxPending: 10, maxLag: 10 });
    const res = await app.get();
    expect(res.status).toBe(200);
    expect(res.body.info.streams).toMatchObject({ status: 'up', streams: { [app.pattern]: { pending: 0, lag: 0 } } });
  });

  it('answers 503 stream-missing when a handled stream was deleted (it used to answer 500)', async () => {
    proxy = await startProxy(redis.port);
    // A long block: the frozen reader neither sees the deletion (and recreates the stream) nor counts as stalled yet.
    // boundedReads off: its size-checking read runs on the commands connection, which is not frozen, and would.
    const app = await start(proxy.url, { maxPending: 10 }, { blockMs: 10_000, watchdogMs: 10_000, boundedReads: false });
    await waitFor(async () => (await app.get()).status === 200, 'up');
    // Frozen while blocked in a read: a reader connecting or between reads would see the change and undo it.
    await readerBlocked();
    proxy.freeze('nestream:reader');
    await redis.client().del(app.pattern);
    expectDown(await app.get(), 'stream-missing', new RegExp(`^${app.pattern}: the stream does not exist`));
  });

  it('answers 503 group-missing when the consumer group was destroyed', async () => {
    proxy = await startProxy(redis.port);
    const app = await start(proxy.url, { maxLag: 10 }, { blockMs: 10_000, watchdogMs: 10_000, boundedReads: false });
    await waitFor(async () => (await app.get()).status === 200, 'up');
    // Frozen while blocked in a read: a reader connecting or between reads would see the change and undo it.
    await readerBlocked();
    proxy.freeze('nestream:reader');
    await redis.client().xgroup('DESTROY', app.pattern, 'g');
    expectDown(await app.get(), 'group-missing', /consumer group "g" does not exist/);
  });

  it('answers 503 connection-refused when Redis is down, naming ECONNREFUSED (not a PING timeout)', async () => {
    const own = await startRedis();
    try {
      const app = await start(own.url, { maxPending: 10 });
      await waitFor(async () => (await app.get()).status === 200, 'up');
      await own.kill();
      await waitFor(async () => (await app.get()).body.error?.streams?.reason === 'connection-refused', 'refused', 10_000);
      expectDown(await app.get(), 'connection-refused', /^Redis refused the connection \(.*ECONNREFUSED/);
    } finally {
      await running?.http.close();
      running = undefined;
      await own.stop();
    }
  });

  it('answers 503 timeout, within the timeout, when Redis stops answering', async () => {
    proxy = await startProxy(redis.port);
    const app = await start(proxy.url, { timeoutMs: 300, maxPending: 10 });
    await waitFor(async () => (await app.get()).status === 200, 'up');
    proxy.freeze('nestream:commands');
    const started = Date.now();
    const res = await app.get();
    expectDown(res, 'timeout', /did not answer PING within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers 503 max-pending when too many entries are pending', async () => {
    const app = await start(redis.url, { maxPending: 2 });
    const r = redis.client();
    for (let i = 0; i < 3; i++) await r.xadd(app.pattern, '*', 'data', '{}');
    await waitFor(async () => (await app.get()).status === 503, 'down');
    expectDown(await app.get(), 'max-pending', /3 pending > maxPending 2/);
  });
});
