import 'reflect-metadata';
import { BadRequestException, Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern } from '@nestjs/microservices';
import { Registry } from 'prom-client';
import { RedisStreamContext, UnrecoverableEventError, type DeadLetteredEvent } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { metricValue } from './metric-values.js';

const fx = useRedis();

describe('nestream_messages_dead_lettered_total', () => {
  it('counts the oversized entries a bounded read dead-letters inside Redis, like every other dead letter', async () => {
    const registry = new Registry();
    const pattern = uniqueName('oversized');
    const handled: string[] = [];
    @Controller()
    class Handler {
      @EventPattern<string>(pattern)
      handle(data: string) {
        handled.push(data);
      }
    }
    // boundedReads is on by default: entries over maxPayloadBytes never leave Redis, the read script moves them.
    fx.apps.push(await startApp([Handler], { connection: fx.redis.url, group: 'g', maxPayloadBytes: 1024, metrics: { registry } }));
    const redis = fx.redis.client();
    for (let i = 0; i < 3; i++) await redis.xadd(pattern, '*', 'data', JSON.stringify('x'.repeat(4096)));
    await redis.xadd(pattern, '*', 'data', JSON.stringify('small'));
    await waitFor(() => handled.length === 1, 'the small entry to be handled');
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 3, 'the three oversized entries dead-lettered');
    expect(await metricValue(registry, 'nestream_messages_dead_lettered_total', { stream: pattern, group: 'g', reason: 'decode' })).toBe(3);
  });

  it('counts every dead letter once, with its reason, whatever path refused the entry (and emits one event for each)', async () => {
    const registry = new Registry();
    const p = (what: string) => uniqueName(`dl-${what}`);
    const streams = {
      maxAttempts: p('max-attempts'), unrecoverable: p('unrecoverable'), validation: p('validation'), deadline: p('deadline'),
      interrupted: p('interrupted'), decode: p('decode'), manual: p('manual'),
    };
    @Controller()
    class Failing {
      @EventPattern(streams.maxAttempts, { retry: { maxAttempts: 1 } })
      fails() {
        throw new Error('always');
      }

      @EventPattern(streams.unrecoverable)
      refuses() {
        throw new UnrecoverableEventError('never valid');
      }

      @EventPattern(streams.validation)
      invalid() {
        throw new BadRequestException('amount must be positive');
      }

      // Its retry (after 60 s) would come after its caller's deadline: dead-lettered at once.
      @MessagePattern(streams.deadline, { retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs: 60_000, jitter: 0 } } })
      late() {
        throw new Error('downstream down');
      }

      @EventPattern(streams.interrupted)
      interrupted() {
        throw new Error('the handler must not run');
      }

      @EventPattern(streams.decode)
      undecodable() {
        throw new Error('the handler must not run');
      }
    }
    @Controller()
    class Manual {
      @EventPattern(streams.manual)
      settle(@Ctx() ctx: RedisStreamContext) {
        ctx.deadLetter('customer unknown');
      }
    }
    const redis = fx.redis.client();
    // Delivered 5 times to consumer "c1" without a recorded failure (its runs were interrupted): more than
    // retry.maxInterruptions (1); "c1" takes it back from its own pending list when it starts.
    await redis.xgroup('CREATE', streams.interrupted, 'g', '0', 'MKSTREAM');
    const crashed = await redis.xadd(streams.interrupted, '*', 'data', JSON.stringify('poison'));
    await redis.xreadgroup('GROUP', 'g', 'c1', 'STREAMS', streams.interrupted, '>');
    await redis.xclaim(streams.interrupted, 'g', 'c1', 0, crashed!, 'RETRYCOUNT', 5);

    // Waiting before the consumer starts, so its first read is the size guard's script (not a blocking read).
    await redis.xgroup('CREATE', streams.decode, 'g', '0', 'MKSTREAM');
    // Three ways to be undecodable: not the wire format (the codec), larger than maxPayloadBytes (the size
    // guard's read script moves it inside Redis), bytes that are not UTF-8 (the UTF-8 guard).
    await redis.xadd(streams.decode, '*', 'data', '{not json');
    await redis.xadd(streams.decode, '*', 'data', JSON.stringify('x'.repeat(4096)));
    await redis.xadd(streams.decode, '*', 'data', Buffer.from([0x22, 0xff, 0xfe, 0x22]));

    const events: DeadLetteredEvent[] = [];
    const base = { connection: fx.redis.url, group: 'g', maxPayloadBytes: 1024, metrics: { registry } };
    const app = await startApp([Failing], { ...base, consumer: 'c1', retry: { maxInterruptions: 1 } });
    const manual = await startApp([Manual], { ...base, consumer: 'c2', ack: 'manual' });
    fx.apps.push(app, manual);
    for (const { server } of [app, manual]) server.on('deadLettered', event => events.push(event));

    await redis.xadd(streams.maxAttempts, '*', 'data', JSON.stringify('x'));
    await redis.xadd(streams.unrecoverable, '*', 'data', JSON.stringify('x'));
    await redis.xadd(streams.validation, '*', 'data', JSON.stringify('x'));
    await redis.xadd(streams.deadline, '*', 'data', JSON.stringify('x'), 'cid', 'c-1', 'rt', `nestream:replies:${uniqueName('caller')}`, 'dl', String(Date.now() + 30_000));
    await redis.xadd(streams.manual, '*', 'data', JSON.stringify('x'));

    const expected: Record<string, [stream: string, count: number]> = {
      'max-attempts': [streams.maxAttempts, 1], unrecoverable: [streams.unrecoverable, 1], validation: [streams.validation, 1],
      deadline: [streams.deadline, 1], interrupted: [streams.interrupted, 1], manual: [streams.manual, 1], decode: [streams.decode, 3],
    };
    const letters = async () => (await Promise.all(Object.values(streams).map(s => fx.deadLetters(s)))).flat();
    await waitFor(async () => (await letters()).length === 9, 'nine dead letters');
    await waitFor(() => events.length === 9, 'nine deadLettered events');
    for (const [reason, [stream, count]] of Object.entries(expected)) {
      expect({ reason, counted: await metricValue(registry, 'nestream_messages_dead_lettered_total', { stream, group: 'g', reason }) }).toEqual({ reason, counted: count });
      expect({ reason, events: events.filter(e => e.reason === reason && e.stream === stream).length }).toEqual({ reason, events: count });
    }
    expect((await letters()).map(l => l['dlq.reason']).sort()).toEqual(Object.entries(expected).flatMap(([reason, [, n]]) => Array(n).fill(reason)).sort());
  });
});
