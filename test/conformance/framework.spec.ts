import 'reflect-metadata';
import {
  Catch, Controller, Injectable, Module, UseFilters, UseGuards, UseInterceptors, UsePipes, ValidationPipe,
  type ArgumentsHost, type CallHandler, type CanActivate, type ExceptionFilter, type ExecutionContext, type NestInterceptor,
} from '@nestjs/common';
import { Get } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  DEAD_LETTER_FIELDS, REDIS_STREAMS_TRANSPORT, RedisStreamContext, RedisStreamsServer,
} from '@nestream/transport';
import { IsInt, IsString, Min } from 'class-validator';
import { firstValueFrom, tap, throwError, type Observable } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

class CreateOrder {
  @IsInt()
  @Min(1)
  id!: number;

  @IsString()
  sku!: string;

  describe() {
    return `${this.sku}#${this.id}`;
  }
}

describe('Nest framework behaviour', () => {
  it('runs interceptors around event and message handlers', async () => {
    const ev = uniqueName('intercepted');
    const msg = uniqueName('intercepted-rpc');
    const trace: string[] = [];
    @Injectable()
    class Tracing implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
        const ctx = context.switchToRpc().getContext<RedisStreamContext>();
        trace.push(`before ${ctx.getPattern()}`);
        return next.handle().pipe(tap(() => trace.push(`after ${ctx.getPattern()}`)));
      }
    }
    @Controller()
    @UseInterceptors(Tracing)
    class Handlers {
      @EventPattern(ev)
      onEvent() {
        trace.push('handler');
      }

      @MessagePattern(msg)
      onMessage(@Payload() n: number) {
        return n * 2;
      }
    }
    fx.apps.push(await startApp([Handlers], { connection: fx.redis.url, group: 'g' }));
    await fx.client().emitMany(ev, [{}]);
    await waitFor(() => trace.includes(`after ${ev}`), 'the interceptor to finish');
    expect(trace).toEqual([`before ${ev}`, 'handler', `after ${ev}`]);
    await expect(firstValueFrom(fx.client().send(msg, 21))).resolves.toBe(42);
    expect(trace).toContain(`after ${msg}`);
  });

  it('treats a rejecting guard as a failure: retried, then dead-lettered', async () => {
    const pattern = uniqueName('guarded');
    let guardCalls = 0;
    let handled = 0;
    @Injectable()
    class DenyAll implements CanActivate {
      canActivate() {
        guardCalls++;
        return false;
      }
    }
    @Controller()
    class Guarded {
      @EventPattern(pattern)
      @UseGuards(DenyAll)
      handle() {
        handled++;
      }
    }
    fx.apps.push(await startApp([Guarded], { connection: fx.redis.url, group: 'g', retry: { maxAttempts: 2, backoff: { delayMs: 50 } } }));
    await fx.client().emitMany(pattern, [{}]);
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'a dead letter');
    const [letter] = await fx.deadLetters(pattern);
    expect(letter[DEAD_LETTER_FIELDS.reason]).toBe('max-attempts');
    expect(letter[DEAD_LETTER_FIELDS.errorMessage]).toBe('Forbidden resource');
    expect(guardCalls).toBe(2);
    expect(handled).toBe(0);
  });

  it('transforms a valid @Payload() with ValidationPipe and dead-letters an invalid one at once', async () => {
    const pattern = uniqueName('validated');
    const seen: string[] = [];
    let calls = 0;
    @Controller()
    class Validated {
      @EventPattern(pattern)
      @UsePipes(new ValidationPipe({ transform: true }))
      handle(@Payload() order: CreateOrder) {
        calls++;
        seen.push(order.describe());
      }
    }
    fx.apps.push(await startApp([Validated], { connection: fx.redis.url, group: 'g' }));
    await fx.client().emitMany(pattern, [{ id: 1, sku: 'A' }, { id: 0, sku: 5 }]);
    await waitFor(async () => seen.length === 1 && (await fx.deadLetters(pattern)).length === 1, 'one handled, one dead letter');
    expect(seen).toEqual(['A#1']);
    const [letter] = await fx.deadLetters(pattern);
    expect(letter[DEAD_LETTER_FIELDS.reason]).toBe('validation');
    expect(letter[DEAD_LETTER_FIELDS.attempts]).toBe('1');
    expect(letter[DEAD_LETTER_FIELDS.errorName]).toBe('BadRequestException');
    expect(calls).toBe(1);
  });

  it('runs exception filters, and the failure they rethrow is still retried and dead-lettered with the real error', async () => {
    const pattern = uniqueName('filtered');
    const caught: string[] = [];
    @Catch()
    class Recording implements ExceptionFilter {
      catch(exception: Error, host: ArgumentsHost) {
        caught.push(`${exception.message} @ ${host.switchToRpc().getContext<RedisStreamContext>().getDeliveryCount()}`);
        return throwError(() => exception);
      }
    }
    @Controller()
    class Filtered {
      @EventPattern(pattern)
      @UseFilters(Recording)
      handle() {
        throw new Error('inventory service down');
      }
    }
    fx.apps.push(await startApp([Filtered], { connection: fx.redis.url, group: 'g', retry: { maxAttempts: 2, backoff: { delayMs: 50 } } }));
    await fx.client().emitMany(pattern, [{}]);
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'a dead letter');
    expect(caught).toEqual(['inventory service down @ 1', 'inventory service down @ 2']);
    expect((await fx.deadLetters(pattern))[0][DEAD_LETTER_FIELDS.errorMessage]).toBe('inventory service down');
  });

  it('works in a hybrid HTTP app, and transportId binds a handler to one transport only', async () => {
    const shared = uniqueName('hybrid');
    const onlyA = uniqueName('only-a');
    const A = Symbol('streams-a');
    const handled: string[] = [];
    @Controller()
    class Hybrid {
      @Get('health')
      ping() {
        return 'ok';
      }

      @EventPattern(shared)
      onShared(@Ctx() ctx: RedisStreamContext) {
        handled.push(`shared:${ctx.getGroup()}`);
      }

      @EventPattern(onlyA, A)
      onA(@Ctx() ctx: RedisStreamContext) {
        handled.push(`onlyA:${ctx.getGroup()}`);
      }
    }
    @Module({ controllers: [Hybrid] })
    class HybridModule {}
    const http = await NestFactory.create(HybridModule, { logger: false });
    const serverA = new RedisStreamsServer({ connection: fx.redis.url, group: 'a', transportId: A });
    const serverB = new RedisStreamsServer({ connection: fx.redis.url, group: 'b' });
    http.connectMicroservice({ strategy: serverA });
    http.connectMicroservice({ strategy: serverB });
    await http.startAllMicroservices();
    await http.listen(0, '127.0.0.1');
    fx.apps.push({ app: http as never, server: serverA, close: () => http.close() });
    const res = await fetch(`${await http.getUrl()}/health`);
    expect(await res.text()).toBe('ok');
    expect(serverA.streams.sort()).toEqual([shared, onlyA].sort());
    expect(serverB.streams).toEqual([shared]);
    expect(serverB.transportId).toBe(REDIS_STREAMS_TRANSPORT);
    await fx.client().emitMany(shared, [{}]);
    await fx.client().emitMany(onlyA, [{}]);
    await waitFor(() => handled.length === 3, 'three handler calls');
    expect(handled.sort()).toEqual(['onlyA:a', 'shared:a', 'shared:b']);
  });
});
