import 'reflect-metadata';
import { Controller, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { InvalidOptionsError, RedisStreamContext, RedisStreamRecordBuilder, RedisStreamsServer, RequestTimeoutError } from '@nestream/transport';
import { firstValueFrom, NEVER, of, concat } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

/** What app.listen() does with these controllers: resolves, or rejects with the error. */
async function listen(controllers: Type<unknown>[]): Promise<unknown> {
  @Module({ controllers })
  class M {}
  const app = await NestFactory.createMicroservice(M, {
    strategy: new RedisStreamsServer({ connection: fx.redis.url, group: 'g' }),
    logger: false,
  });
  try {
    await app.listen();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await app.close();
  }
}

describe('wildcard patterns (issue 14, problem 9)', () => {
  it.each(['math.*', 'orders.>'])('rejects %s at listen(): a pattern is one stream, read by its exact name', async pattern => {
    @Controller()
    class Wild {
      @MessagePattern(pattern)
      handle() {
        return 1;
      }
    }
    const err = await listen([Wild]);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toContain(`"@MessagePattern('${pattern}')": wildcard patterns are not supported`);
    // Nothing was created in Redis for it.
    expect(await fx.redis.client().exists(pattern)).toBe(0);
  });
});

describe('handler extras', () => {
  it('rejects a misspelt key at listen(), naming the handler and the closest known key', async () => {
    const pattern = uniqueName('extras');
    @Controller()
    class Typo {
      @EventPattern(pattern, { retyr: { maxAttempts: 2 } })
      handle() {}
    }
    const err = await listen([Typo]);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toContain(`"@EventPattern('${pattern}') extras.retyr": unknown option; did you mean "retry"?`);
  });
});

describe('object patterns', () => {
  it('map { cmd: "sum" } to the stream {"cmd":"sum"} (Nest\'s normalised pattern: keys sorted, JSON-like)', async () => {
    const tag = uniqueName('t');
    @Controller()
    class Math {
      @MessagePattern({ cmd: 'sum', tag })
      sum(@Payload() numbers: number[], @Ctx() ctx: RedisStreamContext) {
        return { total: numbers.reduce((a, b) => a + b, 0), stream: ctx.getStream() };
      }
    }
    fx.apps.push(await startApp([Math], { connection: fx.redis.url, group: 'g', keyPrefix: 'app.' }));
    const client = fx.client({ keyPrefix: 'app.' });
    const key = `app.{"cmd":"sum","tag":"${tag}"}`;
    expect(client.streamOf({ tag, cmd: 'sum' })).toBe(key);
    await expect(firstValueFrom(client.send({ tag, cmd: 'sum' }, [1, 2]))).resolves.toEqual({ total: 3, stream: key });
    expect(await fx.redis.client().exists(key)).toBe(1);
  });
});

describe('several handlers for one pattern', () => {
  it('runs every @EventPattern handler of the pattern for each entry; one failing retries the entry, so all run again', async () => {
    const pattern = uniqueName('two-handlers');
    const calls: string[] = [];
    let failuresLeft = 1;
    @Controller()
    class Billing {
      @EventPattern(pattern)
      charge(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
        calls.push(`billing ${e.n} attempt ${ctx.getDeliveryCount()}`);
      }
    }
    @Controller()
    class Mailer {
      @EventPattern(pattern)
      mail(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
        calls.push(`mailer ${e.n} attempt ${ctx.getDeliveryCount()}`);
        if (failuresLeft-- > 0) throw new Error('SMTP down');
      }
    }
    const app = await startApp([Billing, Mailer], { connection: fx.redis.url, group: 'g', retry: { backoff: { delayMs: 50 } } });
    fx.apps.push(app);
    await fx.client().emitMany(pattern, [{ n: 1 }]);
    await waitFor(() => calls.length === 4, 'both handlers, twice');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'the entry acked');
    expect(calls.sort()).toEqual(['billing 1 attempt 1', 'billing 1 attempt 2', 'mailer 1 attempt 1', 'mailer 1 attempt 2']);
  });

  it('rejects handlers of one pattern whose extras differ (only one retry policy can apply)', async () => {
    const pattern = uniqueName('two-extras');
    @Controller()
    class A {
      @EventPattern(pattern, { retry: { maxAttempts: 2 } })
      a() {}
    }
    @Controller()
    class B {
      @EventPattern(pattern, { retry: { maxAttempts: 9 } })
      b() {}
    }
    const err = await listen([A, B]);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toContain('several handlers with different extras');
  });
});

describe('request timeouts', () => {
  it('say how many replies came when a stream of replies never ends', async () => {
    const pattern = uniqueName('endless');
    @Controller()
    class Endless {
      @MessagePattern(pattern)
      handle() {
        return concat(of('first'), NEVER);
      }
    }
    // The handler never completes: close() gives up on it after shutdownTimeoutMs.
    fx.apps.push(await startApp([Endless], { connection: fx.redis.url, group: 'g', shutdownTimeoutMs: 200 }));
    const values: unknown[] = [];
    const error = await new Promise<Error>(resolve =>
      fx.client().send(pattern, new RedisStreamRecordBuilder({}).setTimeout(1000).build()).subscribe({ next: v => values.push(v), error: resolve }),
    );
    expect(values).toEqual(['first']);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error.message).toContain('1 value came, then the reply stream did not end');
    expect((error as RequestTimeoutError).replies).toBe(1);
  });
});
