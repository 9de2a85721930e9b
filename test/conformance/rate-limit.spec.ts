import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { InvalidOptionsError, PermissionError, RedisStreamsServer, type HandlerFailedEvent, type RateLimitOptions, type RedisStreamsServerOptions } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Rate limits (issue 23): `@EventPattern('x', { rateLimit: { max, perMs } })`, one token bucket in Redis shared by
// every consumer of the group; an entry waiting for its turn stays pending, unrun, when its consumer stops.
const fx = useRedis();

/** When each `{ n }` was handled (ms, this process's clock), and the failures reported. */
interface Handled {
  at: Map<number, number[]>;
  failed: HandlerFailedEvent[];
}

async function startService(pattern: string, rateLimit: RateLimitOptions, handled: Handled, options: Partial<RedisStreamsServerOptions> = {}): Promise<TestApp> {
  @Controller()
  class Limited {
    @EventPattern<string>(pattern, { rateLimit })
    handle(@Payload() event: { n: number }) {
      handled.at.set(event.n, [...(handled.at.get(event.n) ?? []), Date.now()]);
    }
  }
  const server = new RedisStreamsServer({ connection: fx.redis.url, group: 'g', startId: '0', ...options });
  server.on('failed', event => handled.failed.push(event));
  const app = await startApp([Limited], server);
  fx.apps.push(app);
  return app;
}

function newHandled(): Handled {
  return { at: new Map(), failed: [] };
}

/** The handling times, in order. */
function times(handled: Handled): number[] {
  return [...handled.at.values()].flat().sort((a, b) => a - b);
}

async function failingListen(controllers: unknown[]): Promise<Error> {
  @Module({ controllers: controllers as never[] })
  class FailingModule {}
  const app: INestMicroservice = await NestFactory.createMicroservice(FailingModule, {
    strategy: new RedisStreamsServer({ connection: fx.redis.url, group: 'g' }), logger: false,
  });
  const error = await app.listen().then(() => new Error('listen() resolved'), (err: Error) => err);
  await app.close();
  return error;
}

describe('rate limits', () => {
  it('two consumers of a group share one limit: after a burst of max, one run per perMs / max', async () => {
    const pattern = uniqueName('limited');
    const handled = newHandled();
    const limit = { max: 10, perMs: 500 };
    await startService(pattern, limit, handled, { consumer: 'c1' });
    await startService(pattern, limit, handled, { consumer: 'c2' });
    await fx.client().emitMany(pattern, Array.from({ length: 40 }, (_, n) => ({ n })));
    await waitFor(() => handled.at.size === 40, 'all 40 to be handled');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'nothing pending');

    expect([...handled.at.values()].every(at => at.length === 1)).toBe(true);
    expect(handled.failed).toEqual([]);
    // A token bucket of 10 refilled at one per 50 ms: the k-th run (0-based) comes at least (k + 1 - 10) x 50 ms
    // after the first. Two buckets (one per consumer) would let the 40 through in about 500 ms instead of 1,500.
    const at = times(handled);
    const interval = limit.perMs / limit.max;
    const early = at.map((t, k) => ({ k, gap: t - at[0], least: (k + 1 - limit.max) * interval })).filter(r => r.gap < r.least - 25);
    expect(early).toEqual([]);
    expect(at[39] - at[0]).toBeGreaterThanOrEqual(1450);
  });

  it('a consumer closed while entries wait for their turn leaves them pending, unrun and not failed; the next one runs them', async () => {
    const pattern = uniqueName('waiting');
    const handled = newHandled();
    const limit = { max: 1, perMs: 1500 };
    const first = await startService(pattern, limit, handled, { consumer: 'c1' });
    await fx.client().emitMany(pattern, [{ n: 0 }, { n: 1 }, { n: 2 }]);
    await waitFor(() => handled.at.size === 1, 'the first entry to be handled');
    await waitFor(async () => (await fx.pending(pattern)) === 2, 'the first entry acked, two waiting for their turn');

    await first.close();
    // Closing did not wait for the turns (1.5 s each), ran nothing more and failed nothing: both still pending.
    expect(handled.at.size).toBe(1);
    expect(handled.failed).toEqual([]);
    expect(await fx.pending(pattern)).toBe(2);
    expect(await fx.redis.client().exists(`${pattern}:failures`)).toBe(0);

    // The consumer restarted under its name takes its pending entries back at once, and runs them in turn.
    await startService(pattern, limit, handled, { consumer: 'c1' });
    await waitFor(() => handled.at.size === 3, 'the two waiting entries to be handled after the restart');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'nothing pending');
    expect([...handled.at.values()].every(at => at.length === 1)).toBe(true);
    expect(handled.failed).toEqual([]);
  });

  it('is refused at listen() on a @MessagePattern, with batch, and when malformed', async () => {
    const pattern = uniqueName('refused');
    @Controller()
    class OnRequest {
      @MessagePattern(pattern, { rateLimit: { max: 1, perMs: 1000 } })
      handle() {
        return 1;
      }
    }
    const onRequest = await failingListen([OnRequest]);
    expect(onRequest).toBeInstanceOf(InvalidOptionsError);
    expect(onRequest.message).toContain(`"@MessagePattern('${pattern}') extras.rateLimit": is for @EventPattern handlers only`);

    @Controller()
    class OnBatch {
      @EventPattern(pattern, { batch: true, rateLimit: { max: 1, perMs: 1000 } })
      handle() {}
    }
    expect((await failingListen([OnBatch])).message).toContain('rateLimit and batch cannot be combined');

    @Controller()
    class Zero {
      @EventPattern(pattern, { rateLimit: { max: 0, perMs: 1000 } })
      handle() {}
    }
    const zero = await failingListen([Zero]);
    expect(zero).toBeInstanceOf(InvalidOptionsError);
    expect(zero.message).toContain('extras.rateLimit.max');

    @Controller()
    class NoWindow {
      @EventPattern(pattern, { rateLimit: { max: 5 } })
      handle() {}
    }
    expect((await failingListen([NoWindow])).message).toContain('extras.rateLimit.perMs": is required');
  });

  it('a Redis user who may not use the limit\'s key is refused at listen(), naming the key', async () => {
    const pattern = uniqueName('acl');
    const redis = fx.redis.client();
    // Every command on every key but those starting with "n" (the nestream:* keys, rate limits among them).
    await redis.call('ACL', 'SETUSER', 'no-limits', 'on', '>pw', '~[^n]*', '+@all');
    const url = fx.redis.url.replace('redis://', 'redis://no-limits:pw@');
    @Controller()
    class Limited {
      @EventPattern(pattern, { rateLimit: { max: 5, perMs: 1000 } })
      handle() {}
    }
    @Module({ controllers: [Limited] })
    class M {}
    const app = await NestFactory.createMicroservice(M, { strategy: new RedisStreamsServer({ connection: url, group: 'g' }), logger: false });
    const error = await app.listen().then(() => new Error('listen() resolved'), (err: Error) => err);
    await app.close();
    expect(error.message).toContain(`NOPERM: the Redis user may not run GET on "nestream:rate-limit:1:g:${pattern}", SET on "nestream:rate-limit:1:g:${pattern}"`);
    expect((error as { cause?: unknown }).cause ?? error).toBeInstanceOf(PermissionError);
  });
});
