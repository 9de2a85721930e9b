import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { RedisStreamsClient, RedisStreamRecordBuilder, RequestTimeoutError } from '@nestream/transport';
import { firstValueFrom, lastValueFrom, of, timeout, toArray, interval, map, take } from 'rxjs';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

let redis: TestRedis;
let app: TestApp;
let client: RedisStreamsClient;
const p = {
  sum: uniqueName('math.sum'),
  stream: uniqueName('math.count'),
  observable: uniqueName('math.obs'),
  rpcError: uniqueName('math.rpc-error'),
  plainError: uniqueName('math.plain-error'),
  slow: uniqueName('math.slow'),
};
let slowCalls = 0;

beforeAll(async () => {
  redis = await startRedis();
  @Controller()
  class MathController {
    @MessagePattern(p.sum)
    async sum(@Payload() numbers: number[]) {
      return numbers.reduce((a, b) => a + b, 0);
    }

    @MessagePattern(p.stream)
    count(@Payload() n: number) {
      return interval(5).pipe(take(n), map(i => i + 1));
    }

    @MessagePattern(p.observable)
    single() {
      return of('one');
    }

    @MessagePattern(p.rpcError)
    rpcError() {
      throw new RpcException({ code: 'E_NEGATIVE', message: 'negative numbers' });
    }

    @MessagePattern(p.plainError, { retry: { maxAttempts: 2, backoff: { delayMs: 50 } } })
    plainError() {
      throw new Error('database down');
    }

    @MessagePattern(p.slow)
    async slow() {
      slowCalls++;
      await new Promise(r => setTimeout(r, 1500));
      return 'late';
    }
  }
  app = await startApp([MathController], { connection: redis.url, group: 'math', concurrency: 4 });
  client = new RedisStreamsClient({ connection: redis.url, requestTimeoutMs: 5000 });
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await app?.close();
  await redis?.stop();
});

describe('request-reply', () => {
  it('returns the value of a @MessagePattern handler', async () => {
    await expect(firstValueFrom(client.send(p.sum, [1, 2, 3]))).resolves.toBe(6);
  });

  it('routes concurrent replies to their callers', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => firstValueFrom(client.send(p.sum, [i, 1]))));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('streams every value of an Observable, then completes', async () => {
    await expect(lastValueFrom(client.send(p.stream, 4).pipe(toArray()))).resolves.toEqual([1, 2, 3, 4]);
    await expect(lastValueFrom(client.send(p.observable, {}).pipe(toArray()))).resolves.toEqual(['one']);
  });

  it('passes an RpcException to the caller as Nest built-in transports do, without retrying', async () => {
    await expect(firstValueFrom(client.send(p.rpcError, {}))).rejects.toEqual({ code: 'E_NEGATIVE', message: 'negative numbers' });
  });

  it('answers a plain Error with "Internal server error" after the retries, and dead-letters the request', async () => {
    await expect(firstValueFrom(client.send(p.plainError, {}))).rejects.toEqual({ status: 'error', message: 'Internal server error' });
    const letters = (await redis.client().xrange(`${p.plainError}:dlq`, '-', '+')) as [string, string[]][];
    expect(letters).toHaveLength(1);
    expect(letters[0][1]).toEqual(expect.arrayContaining(['dlq.error.message', 'database down', 'dlq.attempts', '2']));
  });

  it('times out with a clear error (per call), and the server skips a request whose caller gave up', async () => {
    const record = new RedisStreamRecordBuilder({}).setTimeout(300).build();
    const error = await firstValueFrom(client.send(p.slow, record)).catch(e => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error.message).toMatch(/No reply to ".*" within 300 ms/);
    // Fill the slots with slow requests that time out at once: the queued ones are skipped, not run.
    slowCalls = 0;
    const many = Array.from({ length: 12 }, () =>
      firstValueFrom(client.send(p.slow, new RedisStreamRecordBuilder({}).setTimeout(200).build())).catch(e => e),
    );
    expect((await Promise.all(many)).every(e => e instanceof RequestTimeoutError)).toBe(true);
    await waitFor(async () => ((await redis.client().xpending(p.slow, 'math')) as [number])[0] === 0, 'requests settled', 15_000);
    expect(slowCalls).toBeLessThanOrEqual(4);
  });

  it('works with the rxjs timeout operator', async () => {
    const error = await firstValueFrom(client.send(p.slow, {}).pipe(timeout(100))).catch(e => e);
    expect(error.name).toBe('TimeoutError');
  });

  it('leaves a reply stream that expires', async () => {
    const keys = await redis.client().keys('nestream:replies:*');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(await redis.client().ttl(key)).toBeGreaterThan(0);
  });
});
