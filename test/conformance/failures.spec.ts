import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RpcException } from '@nestjs/microservices';
import {
  DEAD_LETTER_FIELDS,
  RedisStreamContext,
  UnrecoverableEventError,
  type DeadLetteredEvent,
} from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

async function emit(pattern: string, data: unknown): Promise<void> {
  await fx.client().emitMany(pattern, [data]);
}

const fastRetry = { maxAttempts: 3, backoff: { type: 'fixed' as const, delayMs: 300, jitter: 0 } };

describe('retries', () => {
  it('hands a failing entry back after its backoff with a growing delivery count, and acks it once it succeeds', async () => {
    const pattern = uniqueName('flaky');
    const calls: Array<{ at: number; count: number }> = [];
    @Controller()
    class Flaky {
      @EventPattern(pattern)
      handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamContext) {
        calls.push({ at: Date.now(), count: ctx.getDeliveryCount() });
        if (calls.length < 3) throw new Error(`fail #${calls.length}`);
      }
    }
    const backoff = { type: 'exponential' as const, delayMs: 300, maxDelayMs: 5000, jitter: 0 };
    // claim.intervalMs does not matter here: retries are timed by the consumer that saw the failure.
    fx.apps.push(await startApp([Flaky], { connection: fx.redis.url, group: 'g', retry: { maxAttempts: 5, backoff } }));
    await emit(pattern, { id: 1 });
    await waitFor(() => calls.length === 3, 'three attempts');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'the entry acked');
    expect(calls.map(c => c.count)).toEqual([1, 2, 3]);
    const gaps = [calls[1].at - calls[0].at, calls[2].at - calls[1].at];
    // Never sooner than the backoff (300 ms, then 600 ms); not much later either.
    expect(gaps[0]).toBeGreaterThanOrEqual(300);
    expect(gaps[0]).toBeLessThan(300 + 1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(600);
    expect(gaps[1]).toBeLessThan(600 + 1000);
    expect(await fx.deadLetters(pattern)).toEqual([]);
  });

  it('takes per-handler retry settings from the @EventPattern extras', async () => {
    const pattern = uniqueName('extras');
    let calls = 0;
    @Controller()
    class Once {
      @EventPattern(pattern, { retry: { maxAttempts: 1 } })
      handle() {
        calls++;
        throw new Error('nope');
      }
    }
    fx.apps.push(await startApp([Once], { connection: fx.redis.url, group: 'g', retry: fastRetry }));
    await emit(pattern, { id: 1 });
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'a dead letter');
    expect(calls).toBe(1);
  });
});

describe('dead letters', () => {
  it('moves an always-failing entry to <stream>:dlq after maxAttempts, with the real error and every metadata field', async () => {
    const pattern = uniqueName('poison');
    let calls = 0;
    @Controller()
    class Poison {
      @EventPattern(pattern)
      handle() {
        calls++;
        throw new TypeError('price must be a number');
      }
    }
    const dead: DeadLetteredEvent[] = [];
    const app = await startApp([Poison], { connection: fx.redis.url, group: 'g', consumer: 'c1', retry: fastRetry });
    fx.apps.push(app);
    app.server.on('deadLettered', e => dead.push(e));
    const client = fx.client();
    const [id] = await client.emitMany(pattern, [{ price: 'x' }]);
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'one dead letter');
    const [letter] = await fx.deadLetters(pattern);
    const [[, original]] = (await fx.redis.client().xrange(pattern, id, id)) as [string, string[]][];
    // The original fields, unchanged...
    for (let i = 0; i < original.length; i += 2) expect(letter[original[i]]).toBe(original[i + 1]);
    expect(JSON.parse(letter.data)).toEqual({ price: 'x' });
    // ...plus where it came from and why it failed. The real TypeError, not Nest's "Internal server error".
    const f = DEAD_LETTER_FIELDS;
    expect(letter[f.stream]).toBe(pattern);
    expect(letter[f.id]).toBe(id);
    expect(letter[f.group]).toBe('g');
    expect(letter[f.consumer]).toBe('c1');
    expect(letter[f.attempts]).toBe('3');
    expect(letter[f.reason]).toBe('max-attempts');
    expect(letter[f.errorName]).toBe('TypeError');
    expect(letter[f.errorMessage]).toBe('price must be a number');
    expect(Number.isNaN(Date.parse(letter[f.failedAt]))).toBe(false);
    expect(calls).toBe(3);
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'source pending 0');
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ id, reason: 'max-attempts', attempts: 3, error: { name: 'TypeError' } });
  });

  it('dead-letters after one attempt on UnrecoverableEventError', async () => {
    const pattern = uniqueName('unrecoverable');
    let calls = 0;
    @Controller()
    class Invalid {
      @EventPattern(pattern)
      handle() {
        calls++;
        throw new UnrecoverableEventError('order 7 does not exist');
      }
    }
    fx.apps.push(await startApp([Invalid], { connection: fx.redis.url, group: 'g', retry: fastRetry }));
    await emit(pattern, { id: 7 });
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'one dead letter');
    const [letter] = await fx.deadLetters(pattern);
    expect(letter[DEAD_LETTER_FIELDS.reason]).toBe('unrecoverable');
    expect(letter[DEAD_LETTER_FIELDS.errorName]).toBe('UnrecoverableEventError');
    expect(letter[DEAD_LETTER_FIELDS.attempts]).toBe('1');
    expect(calls).toBe(1);
  });

  it('counts a rejected promise, an errored Observable and an RpcException as failures', async () => {
    const p1 = uniqueName('rejects');
    const p2 = uniqueName('observable');
    const p3 = uniqueName('rpc');
    const { throwError } = await import('rxjs');
    @Controller()
    class Failing {
      @EventPattern(p1, { retry: { maxAttempts: 1 } })
      async rejects() {
        await Promise.resolve();
        throw new RangeError('async failure');
      }

      @EventPattern(p2, { retry: { maxAttempts: 1 } })
      errors() {
        return throwError(() => new SyntaxError('stream failure'));
      }

      @EventPattern(p3, { retry: { maxAttempts: 1 } })
      rpc() {
        throw new RpcException('rpc failure');
      }
    }
    fx.apps.push(await startApp([Failing], { connection: fx.redis.url, group: 'g' }));
    await Promise.all([emit(p1, {}), emit(p2, {}), emit(p3, {})]);
    await waitFor(async () => (await Promise.all([p1, p2, p3].map(fx.deadLetters))).every(l => l.length === 1), 'three dead letters');
    const names = await Promise.all([p1, p2, p3].map(async p => (await fx.deadLetters(p))[0]));
    expect(names.map(l => [l[DEAD_LETTER_FIELDS.errorName], l[DEAD_LETTER_FIELDS.errorMessage]])).toEqual([
      ['RangeError', 'async failure'],
      ['SyntaxError', 'stream failure'],
      ['RpcException', 'rpc failure'],
    ]);
  });

  it('sends undecodable entries straight to the dead-letter stream and handles every good one among them', async () => {
    const pattern = uniqueName('malformed');
    const good = new Set<number>();
    let garbage = 0;
    @Controller()
    class Strict {
      @EventPattern(pattern)
      handle(@Payload() data: { n?: number }) {
        if (typeof data?.n !== 'number') garbage++;
        else good.add(data.n);
      }
    }
    fx.apps.push(await startApp([Strict], { connection: fx.redis.url, group: 'g', maxPayloadBytes: 64 * 1024 }));
    const r = fx.redis.client();
    const pipeline = r.pipeline();
    const bad: Array<string[]> = [
      ['data', '{not json'],
      ['payload', '{"n":1}'],
      ['data', '{"__proto__":{"polluted":true}}'],
      ['data', '{"a":{"__proto__":{"polluted":true}}}'],
      ['v', '99', 'data', '{"n":1}'],
      ['data', '{"n":1}', 'h', 'not-json'],
      ['data', '{"n":1}', 'h', '[1,2]'],
      ['data', JSON.stringify({ n: 1, big: 'x'.repeat(70 * 1024) })],
    ];
    let badCount = 0;
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) pipeline.xadd(pattern, '*', 'data', JSON.stringify({ n: i }));
      else {
        pipeline.xadd(pattern, '*', ...bad[(i >> 1) % bad.length]);
        badCount++;
      }
    }
    await pipeline.exec();
    await waitFor(async () => good.size === 500 && (await r.xlen(`${pattern}:dlq`)) === badCount, 'good handled, bad dead-lettered');
    expect(garbage).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const letters = await fx.deadLetters(pattern);
    expect(letters.every(l => l[DEAD_LETTER_FIELDS.reason] === 'decode' && l[DEAD_LETTER_FIELDS.errorName] === 'DecodeError')).toBe(true);
    expect(new Set(letters.map(l => l[DEAD_LETTER_FIELDS.errorMessage])).size).toBeGreaterThanOrEqual(6);
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'source pending 0');
  });

  it('only acks (and logs) with deadLetter: false', async () => {
    const pattern = uniqueName('nodlq');
    @Controller()
    class Failing {
      @EventPattern(pattern)
      handle() {
        throw new UnrecoverableEventError('drop me');
      }
    }
    const dropped: DeadLetteredEvent[] = [];
    const app = await startApp([Failing], { connection: fx.redis.url, group: 'g', deadLetter: false });
    fx.apps.push(app);
    app.server.on('deadLettered', e => dropped.push(e));
    await emit(pattern, {});
    await waitFor(() => dropped.length === 1, 'the drop reported');
    expect(dropped[0].deadLetterStream).toBe(false);
    expect(await fx.redis.client().exists(`${pattern}:dlq`)).toBe(0);
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'source pending 0');
  });
});

describe('manual settlement', () => {
  it('acks, retries with a delay, dead-letters, and refuses a second settlement', async () => {
    const pattern = uniqueName('manual');
    const seen: Array<{ kind: string; count: number; at: number }> = [];
    const doubleSettle: unknown[] = [];
    @Controller()
    class Manual {
      @EventPattern(pattern)
      handle(@Payload() data: { kind: string }, @Ctx() ctx: RedisStreamContext) {
        seen.push({ kind: data.kind, count: ctx.getDeliveryCount(), at: Date.now() });
        if (data.kind === 'ack') ctx.ack();
        if (data.kind === 'retry') {
          if (ctx.getDeliveryCount() === 1) ctx.retry({ delayMs: 400 });
          else ctx.ack();
        }
        if (data.kind === 'dead') ctx.deadLetter('customer unknown');
        if (data.kind === 'double') {
          ctx.ack();
          try {
            ctx.ack();
          } catch (err) {
            doubleSettle.push(err);
          }
        }
        // 'never': returns without settling: treated as a failure (retried, then dead-lettered).
      }
    }
    fx.apps.push(await startApp([Manual], {
      connection: fx.redis.url, group: 'g', ack: 'manual', retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 100, jitter: 0 } },
    }));
    for (const kind of ['ack', 'retry', 'dead', 'double', 'never']) await emit(pattern, { kind });
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 2 && (await fx.pending(pattern)) === 0, 'all settled');
    const retry = seen.filter(s => s.kind === 'retry');
    expect(retry.map(s => s.count)).toEqual([1, 2]);
    expect(retry[1].at - retry[0].at).toBeGreaterThanOrEqual(400);
    expect(seen.filter(s => s.kind === 'ack')).toHaveLength(1);
    expect(seen.filter(s => s.kind === 'double')).toHaveLength(1);
    expect(seen.filter(s => s.kind === 'never').map(s => s.count)).toEqual([1, 2]);
    expect(doubleSettle).toHaveLength(1);
    expect((doubleSettle[0] as Error).name).toBe('SettlementError');
    const letters = await fx.deadLetters(pattern);
    const byKind = new Map(letters.map(l => [JSON.parse(l.data).kind, l]));
    expect(byKind.get('dead')?.[DEAD_LETTER_FIELDS.reason]).toBe('manual');
    expect(byKind.get('dead')?.[DEAD_LETTER_FIELDS.errorMessage]).toBe('customer unknown');
    expect(byKind.get('never')?.[DEAD_LETTER_FIELDS.reason]).toBe('max-attempts');
    expect(byKind.get('never')?.[DEAD_LETTER_FIELDS.errorMessage]).toMatch(/without settling/);
  });
});

describe('ordered streams', () => {
  it('runs entries one at a time in stream order, retrying a failing one before the next', async () => {
    const pattern = uniqueName('ordered');
    const other = uniqueName('unordered');
    const order: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const failuresLeft = new Map([[3, 2], [7, 1]]);
    let otherHandled = 0;
    @Controller()
    class Sequence {
      @EventPattern(pattern, { ordered: true })
      async handle(@Payload() data: { n: number }) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise(r => setTimeout(r, 2));
        inFlight--;
        const left = failuresLeft.get(data.n) ?? 0;
        if (left > 0) {
          failuresLeft.set(data.n, left - 1);
          throw new Error(`n=${data.n} fails`);
        }
        order.push(data.n);
      }

      @EventPattern(other)
      handleOther() {
        otherHandled++;
      }
    }
    fx.apps.push(await startApp([Sequence], {
      connection: fx.redis.url, group: 'g', concurrency: 16, retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs: 100, jitter: 0 } },
    }));
    const client = fx.client();
    await client.emitMany(pattern, Array.from({ length: 20 }, (_, n) => ({ n })));
    await client.emitMany(other, Array.from({ length: 20 }, (_, n) => ({ n })));
    await waitFor(() => order.length === 20 && otherHandled === 20, 'both streams handled');
    expect(order).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(maxInFlight).toBe(1);
  });
});
