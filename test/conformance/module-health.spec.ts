import 'reflect-metadata';
import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, EventPattern, type ClientProxy } from '@nestjs/microservices';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RedisStreamsClient, RedisStreamsModule, REDIS_STREAMS_CLIENT } from '@nestream/transport';
import { RedisStreamsHealthIndicator } from '@nestream/transport/health';
import { lastValueFrom } from 'rxjs';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

@Injectable()
class FakeConfig {
  constructor(readonly url: string) {}
}

describe('RedisStreamsModule', () => {
  it('registers named clients with forRoot and forRootAsync (config injected), and closes them on shutdown', async () => {
    const pattern = uniqueName('module');
    @Injectable()
    class Producer {
      constructor(@Inject('EVENTS') readonly events: ClientProxy, @Inject(REDIS_STREAMS_CLIENT) readonly other: ClientProxy) {}
    }
    @Module({ providers: [{ provide: FakeConfig, useValue: new FakeConfig(redis.url) }], exports: [FakeConfig] })
    class ConfigModule {}
    @Module({
      imports: [
        RedisStreamsModule.forRootAsync({
          name: 'EVENTS', imports: [ConfigModule], inject: [FakeConfig], useFactory: (c: FakeConfig) => ({ connection: c.url }),
        }),
        RedisStreamsModule.forRoot({ connection: redis.url }),
      ],
      providers: [Producer],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const producer = app.get(Producer);
    expect(producer.events).toBeInstanceOf(RedisStreamsClient);
    expect(producer.other).toBeInstanceOf(RedisStreamsClient);
    const id = await lastValueFrom(producer.events.emit(pattern, { a: 1 }));
    expect(await redis.client().xrange(pattern, id, id)).toHaveLength(1);
    const before = await countConnections('nestream:producer');
    await app.close();
    await waitFor(async () => (await countConnections('nestream:producer')) === before - 1, 'the producer connection closed');
  });

  it('also works through ClientsModule.register with customClass', async () => {
    const pattern = uniqueName('clients-module');
    @Injectable()
    class Producer {
      constructor(@Inject('EVENTS') readonly events: ClientProxy) {}
    }
    @Module({
      imports: [ClientsModule.register([{ name: 'EVENTS', customClass: RedisStreamsClient, options: { connection: redis.url } }])],
      providers: [Producer],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await lastValueFrom(app.get(Producer).events.emit(pattern, { a: 1 }));
    expect(await redis.client().xlen(pattern)).toBe(1);
    await app.close();
  });
});

async function countConnections(name: string): Promise<number> {
  const list = (await redis.client().client('LIST')) as string;
  return list.split('\n').filter(line => line.includes(`name=${name} `)).length;
}

describe('RedisStreamsHealthIndicator', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it('is up while Redis answers and the reader runs, down within seconds when Redis stops, up again when it returns', async () => {
    const own = await startRedis();
    try {
      const pattern = uniqueName('health');
      @Controller()
      class H {
        @EventPattern(pattern)
        handle() {}
      }
      app = await startApp([H], { connection: own.url, group: 'g', blockMs: 200, watchdogMs: 500 });
      const indicator = new RedisStreamsHealthIndicator(new HealthIndicatorService());
      const check = () => indicator.isHealthy('streams', app!.server, { timeoutMs: 500 });
      await waitFor(async () => (await check()).streams.status === 'up', 'up');
      // Idle: the slots reserved for the blocked read are not handlers in flight.
      expect(app.server.stats.inFlight).toBe(0);
      await own.kill();
      const stoppedAt = Date.now();
      await waitFor(async () => (await check()).streams.status === 'down', 'down after Redis stopped', 10_000);
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
      await own.start();
      await waitFor(async () => (await check()).streams.status === 'up', 'up after Redis returned', 15_000);
    } finally {
      await app?.close();
      app = undefined;
      await own.stop();
    }
  });

  it('is down when pending entries exceed maxPending', async () => {
    const pattern = uniqueName('health-pending');
    @Controller()
    class Stuck {
      @EventPattern(pattern)
      handle() {
        return new Promise(() => undefined); // never settles: its entry stays pending
      }
    }
    app = await startApp([Stuck], { connection: redis.url, group: 'g', shutdownTimeoutMs: 100 });
    const indicator = new RedisStreamsHealthIndicator(new HealthIndicatorService());
    expect((await indicator.isHealthy('s', app.server, { maxPending: 2 })).s.status).toBe('up');
    const producer = new RedisStreamsClient({ connection: redis.url });
    await producer.emitMany(pattern, [{}, {}, {}]);
    await producer.close();
    await waitFor(async () => (await indicator.isHealthy('s', app!.server, { maxPending: 2 })).s.status === 'down', 'down');
    const result = await indicator.isHealthy('s', app.server, { maxPending: 2 });
    expect(result.s).toMatchObject({ status: 'down', message: expect.stringMatching(/3 pending > maxPending 2/) });
  });
});
