import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Controller } from '@nestjs/common';
import { ClientProxy, Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, RedisStreamsServer, type RedisStreamBatchContext, type RedisStreamContext } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

// Dispatch and processing hooks are NestJS 12's; on NestJS 11 (scripts/use-nest11.sh) only the wire checks run.
const nest12 = typeof (ClientProxy.prototype as { setOnDispatchHook?: unknown }).setOnDispatchHook === 'function';
const on12 = nest12 ? it : it.skip;

type Hooked = ClientProxy & { setOnDispatchHook(hook: (packet: { pattern: unknown; data: unknown; metadata?: Record<string, string> }) => void): void };
type HookedServer = RedisStreamsServer & {
  setOnProcessingStartHook(hook: (transportId: unknown, ctx: unknown, done: () => Promise<unknown>) => unknown): void;
  setOnProcessingEndHook(hook: (transportId: unknown, ctx: unknown) => void): void;
};

const fastRetry = { maxAttempts: 3, backoff: { type: 'fixed' as const, delayMs: 50, jitter: 0 } };

/** An echo request handler and an event handler that records what its context carried. */
function controllers(pattern: string, seen: Array<Record<string, string> | undefined>) {
  @Controller()
  class Metadata {
    @MessagePattern(`${pattern}.echo`)
    echo(@Payload() data: unknown, @Ctx() ctx: RedisStreamContext) {
      return { data, metadata: ctx.getMetadata() ?? null };
    }

    @EventPattern(`${pattern}.record`)
    record(@Ctx() ctx: RedisStreamContext) {
      seen.push(ctx.getMetadata());
    }
  }
  return Metadata;
}

describe('packet metadata (what Nest\'s own transports pass)', () => {
  on12('a request carries what the dispatch hook attached, beside an untouched payload', async () => {
    const pattern = uniqueName('meta');
    fx.apps.push(await startApp([controllers(pattern, [])], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client() as unknown as Hooked;
    client.setOnDispatchHook(packet => {
      packet.metadata = { 'x-request-id': 'trace-1', tenant: 'acme' };
    });
    const reply = await lastValueFrom(client.send(`${pattern}.echo`, { orderId: 7 }));
    expect(reply).toEqual({ data: { orderId: 7 }, metadata: { 'x-request-id': 'trace-1', tenant: 'acme' } });
  });

  on12('an event carries it too', async () => {
    const pattern = uniqueName('meta');
    const seen: Array<Record<string, string> | undefined> = [];
    fx.apps.push(await startApp([controllers(pattern, seen)], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client() as unknown as Hooked;
    client.setOnDispatchHook(packet => {
      packet.metadata = { 'x-request-id': 'trace-2' };
    });
    await lastValueFrom(client.emit(`${pattern}.record`, {}));
    await waitFor(() => seen.length === 1, 'the event handled');
    expect(seen).toEqual([{ 'x-request-id': 'trace-2' }]);
  });

  it('leaves the context without metadata when the producer set none', async () => {
    const pattern = uniqueName('meta');
    fx.apps.push(await startApp([controllers(pattern, [])], { connection: fx.redis.url, group: 'g' }));
    expect(await lastValueFrom(fx.client().send(`${pattern}.echo`, 'plain'))).toEqual({ data: 'plain', metadata: null });
  });

  on12('calls the dispatch hook once per packet with its pattern and data (emit, send and each event of emitMany)', async () => {
    const pattern = uniqueName('meta');
    const seen: Array<Record<string, string> | undefined> = [];
    fx.apps.push(await startApp([controllers(pattern, seen)], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client() as unknown as Hooked;
    const packets: unknown[] = [];
    client.setOnDispatchHook(packet => {
      packets.push({ pattern: packet.pattern, data: packet.data });
      packet.metadata = { n: String(packets.length) };
    });
    await lastValueFrom(client.send(`${pattern}.echo`, 1));
    await lastValueFrom(client.send(`${pattern}.echo`, 2));
    await lastValueFrom(client.emit(`${pattern}.record`, 3));
    await (client as unknown as { emitMany(p: string, e: unknown[]): Promise<string[]> }).emitMany(`${pattern}.record`, [4, 5]);
    expect(packets).toEqual([
      { pattern: `${pattern}.echo`, data: 1 },
      { pattern: `${pattern}.echo`, data: 2 },
      { pattern: `${pattern}.record`, data: 3 },
      { pattern: `${pattern}.record`, data: 4 },
      { pattern: `${pattern}.record`, data: 5 },
    ]);
    await waitFor(() => seen.length === 3, 'three events handled');
    expect(seen.map(m => m?.n).sort()).toEqual(['3', '4', '5']);
  });

  on12('gives a batch handler each entry\'s metadata', async () => {
    const pattern = uniqueName('meta-batch');
    const seen: Array<string | undefined> = [];
    let first: Record<string, string> | undefined;
    @Controller()
    class Batch {
      @EventPattern(pattern, { batch: true })
      handle(@Payload() events: number[], @Ctx() ctx: RedisStreamBatchContext) {
        first ??= ctx.getMetadata();
        events.forEach((_, i) => seen.push(ctx.getMetadata(i)?.n));
      }
    }
    const client = fx.client() as unknown as Hooked & { emitMany(p: string, e: unknown[]): Promise<string[]> };
    client.setOnDispatchHook(packet => {
      if (packet.data !== 2) packet.metadata = { n: String(packet.data) };
    });
    await client.emitMany(pattern, [1, 2, 3]);
    fx.apps.push(await startApp([Batch], { connection: fx.redis.url, group: 'g', startId: '0' }));
    await waitFor(() => seen.length === 3, 'the batch handled');
    expect(seen).toEqual(['1', undefined, '3']);
    expect(first).toEqual({ n: '1' });
  });

  it('dead-letters an entry whose metadata is not a small object of strings (reason decode), without calling the handler', async () => {
    const pattern = uniqueName('meta-bad');
    let calls = 0;
    @Controller()
    class Strict {
      @EventPattern(pattern)
      handle() {
        calls++;
      }
    }
    fx.apps.push(await startApp([Strict], { connection: fx.redis.url, group: 'g' }));
    const r = fx.redis.client();
    const bad = {
      'not JSON': '{',
      'an array': '["a"]',
      'a number value': '{"a":1}',
      'a nested object': '{"a":{"b":"c"}}',
      'too large': JSON.stringify({ big: 'x'.repeat(9000) }),
      'too many keys': JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))),
      'a prototype key': '{"__proto__":"x"}',
    };
    for (const value of Object.values(bad)) await r.xadd(pattern, '*', 'data', '{}', 'm', value);
    await r.xadd(pattern, '*', 'data', '{}', 'm', '{"fine":"yes"}');
    await waitFor(async () => (await fx.deadLetters(pattern)).length === Object.keys(bad).length, 'every bad entry dead-lettered');
    await waitFor(() => calls === 1, 'the good one handled');
    const letters = await fx.deadLetters(pattern);
    expect(letters.every(l => l[DEAD_LETTER_FIELDS.reason] === 'decode')).toBe(true);
    expect(letters.every(l => l[DEAD_LETTER_FIELDS.errorMessage].includes('"m"'))).toBe(true);
  });

  on12('refuses, at the producer, metadata that is not strings', async () => {
    const pattern = uniqueName('meta-producer');
    const client = fx.client() as unknown as Hooked;
    client.setOnDispatchHook(packet => {
      packet.metadata = { n: 1 } as unknown as Record<string, string>;
    });
    await expect(lastValueFrom(client.emit(pattern, {}))).rejects.toThrow(/Packet metadata "n" must be a string, got number/);
    await expect(lastValueFrom(client.send(pattern, {}))).rejects.toThrow(/Packet metadata "n" must be a string/);
    expect(await fx.redis.client().exists(pattern)).toBe(0);
  });
});

describe('processing hooks', () => {
  on12('calls the start and end hooks once per handler run, retries included, with the context, the handler inside the start hook\'s scope', async () => {
    const pattern = uniqueName('hooks');
    const scope = new AsyncLocalStorage<string>();
    const log: string[] = [];
    @Controller()
    class Flaky {
      @EventPattern(pattern)
      handle(@Ctx() ctx: RedisStreamContext) {
        log.push(`handler ${ctx.getDeliveryCount()} in ${scope.getStore()}`);
        if (ctx.getDeliveryCount() < 2) throw new Error('first attempt fails');
      }
    }
    const server = new RedisStreamsServer({ connection: fx.redis.url, group: 'g', retry: fastRetry }) as HookedServer;
    server.setOnProcessingStartHook((_id, ctx, done) => {
      const c = ctx as RedisStreamContext;
      log.push(`start ${c.getDeliveryCount()} ${c.getMetadata()?.trace}`);
      return scope.run(`span-${c.getDeliveryCount()}`, done);
    });
    // As @nestjs/observe does: the end hook finds its trace in the scope the start hook opened.
    server.setOnProcessingEndHook((_id, ctx) => log.push(`end ${(ctx as RedisStreamContext).getDeliveryCount()} in ${scope.getStore()}`));
    fx.apps.push(await startApp([Flaky], server));
    const client = fx.client() as unknown as Hooked;
    client.setOnDispatchHook(packet => {
      packet.metadata = { trace: 't1' };
    });
    await lastValueFrom(client.emit(pattern, {}));
    await waitFor(() => log.includes('end 2 in span-2'), 'the second run ended');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'acked');
    expect(log).toEqual(['start 1 t1', 'handler 1 in span-1', 'end 1 in span-1', 'start 2 t1', 'handler 2 in span-2', 'end 2 in span-2']);
  });

  on12('ends a request\'s run after its reply was written, and a batch\'s once per call', async () => {
    const pattern = uniqueName('hooks-req');
    const log: string[] = [];
    @Controller()
    class Both {
      @MessagePattern(`${pattern}.req`)
      answer() {
        log.push('handler');
        return 'pong';
      }

      @EventPattern(`${pattern}.batch`, { batch: true })
      batch(@Payload() events: unknown[]) {
        log.push(`batch of ${events.length}`);
      }
    }
    const server = new RedisStreamsServer({ connection: fx.redis.url, group: 'g', startId: '0' }) as HookedServer;
    server.setOnProcessingStartHook((_id, _ctx, done) => {
      log.push('start');
      return done();
    });
    server.setOnProcessingEndHook(() => log.push('end'));
    const client = fx.client();
    await client.emitMany(`${pattern}.batch`, [1, 2, 3]);
    fx.apps.push(await startApp([Both], server));
    await waitFor(() => log.filter(l => l === 'end').length === 1, 'the batch ended');
    expect(log).toEqual(['start', 'batch of 3', 'end']);
    log.length = 0;
    const reply = lastValueFrom(client.send(`${pattern}.req`, {}));
    expect(await reply).toBe('pong');
    // The reply was read by the client, so it was written before the end hook's turn came, or just after.
    await waitFor(() => log.length === 3, 'the request ended');
    expect(log).toEqual(['start', 'handler', 'end']);
  });

  on12('a start hook that throws fails the attempt (retried), and one that never calls done() fails it too', async () => {
    const pattern = uniqueName('hooks-throw');
    let handled = 0;
    @Controller()
    class Counted {
      @EventPattern(pattern)
      handle() {
        handled++;
      }
    }
    let runs = 0;
    const server = new RedisStreamsServer({ connection: fx.redis.url, group: 'g', retry: fastRetry }) as HookedServer;
    server.setOnProcessingStartHook(async (_id, _ctx, done) => {
      runs++;
      if (runs === 1) throw new Error('hook broke');
      if (runs === 2) return; // forgot done()
      return done();
    });
    fx.apps.push(await startApp([Counted], server));
    await lastValueFrom(fx.client().emit(pattern, {}));
    await waitFor(async () => handled === 1 && (await fx.pending(pattern)) === 0, 'handled on the third run and acked');
    expect(runs).toBe(3);
  });
});
