import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, RedisStreamBatchContext, RedisStreamRecordBuilder, decode } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

describe('batch handlers and bulk emit', () => {
  it('hands arrays of payloads to a { batch: true } handler and acks them all', async () => {
    const pattern = uniqueName('batch');
    const sizes: number[] = [];
    const seen = new Map<number, number>();
    @Controller()
    class Batch {
      @EventPattern(pattern, { batch: true })
      handle(@Payload() events: Array<{ n: number }>, @Ctx() ctx: RedisStreamBatchContext) {
        expect(ctx.getEntries()).toHaveLength(events.length);
        sizes.push(events.length);
        for (const e of events) seen.set(e.n, (seen.get(e.n) ?? 0) + 1);
      }
    }
    fx.apps.push(await startApp([Batch], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client();
    const ids = await client.emitMany(pattern, Array.from({ length: 2000 }, (_, n) => ({ n })));
    expect(ids).toHaveLength(2000);
    await waitFor(() => seen.size === 2000, 'every event handled');
    expect([...seen.values()].every(c => c === 1)).toBe(true);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    await waitFor(async () => ((await fx.redis.client().xpending(pattern, 'g')) as [number])[0] === 0, 'all acked');
  });

  it('emitMany adds entries in order over several script chunks, with headers and trimming, and rejects on a wrong key', async () => {
    const pattern = uniqueName('bulk');
    const client = fx.client({ maxLenByPattern: { [pattern]: 100 } });
    const events = Array.from({ length: 1200 }, (_, n) =>
      n % 2 === 0 ? { n } : new RedisStreamRecordBuilder({ n }).setHeaders({ odd: 'yes' }).build(),
    );
    const ids = await client.emitMany(pattern, events);
    expect(ids).toHaveLength(1200);
    const ms = (id: string) => id.split('-').map(Number);
    for (let i = 1; i < ids.length; i++) {
      const [a, b] = [ms(ids[i - 1]), ms(ids[i])];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
    }
    const redis = fx.redis.client();
    const len = await redis.xlen(pattern);
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(400); // MAXLEN ~ trims whole nodes only
    const tail = (await redis.xrevrange(pattern, '+', '-', 'COUNT', 2)) as [string, string[]][];
    expect(tail.map(([id]) => id)).toEqual([ids[1199], ids[1198]]);
    expect(decode(tail[0][1])).toMatchObject({ data: { n: 1199 }, headers: { odd: 'yes' } });
    expect(decode(tail[1][1])).toMatchObject({ data: { n: 1198 }, headers: {} });
    expect(await client.emitMany(pattern, [])).toEqual([]);

    const notAStream = uniqueName('string-key');
    await redis.set(notAStream, 'x');
    await expect(client.emitMany(notAStream, [{ n: 1 }])).rejects.toThrow(/WRONGTYPE/);
  });

  it('retries entries marked with ctx.fail() on their own, and a throw fails the whole batch', async () => {
    const pattern = uniqueName('batch-fail');
    const attempts = new Map<number, number[]>();
    @Controller()
    class Picky {
      @EventPattern(pattern, { batch: true, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 50, jitter: 0 } } })
      handle(@Payload() events: Array<{ n: number }>, @Ctx() ctx: RedisStreamBatchContext) {
        const entries = ctx.getEntries();
        events.forEach((e, i) => attempts.set(e.n, [...(attempts.get(e.n) ?? []), entries[i].deliveryCount]));
        if (events.some(e => e.n === 13)) throw new Error('13 poisons its batch');
        events.forEach((e, i) => {
          if (e.n % 10 === 0 && entries[i].deliveryCount === 1) ctx.fail(i, new Error(`first try of ${e.n} fails`));
        });
      }
    }
    fx.apps.push(await startApp([Picky], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client();
    await client.emitMany(pattern, Array.from({ length: 50 }, (_, n) => ({ n })));
    await waitFor(async () => (await fx.redis.client().xlen(`${pattern}:dlq`)) === 1, 'the poison dead-lettered');
    await waitFor(async () => ((await fx.redis.client().xpending(pattern, 'g')) as [number])[0] === 0, 'all settled');
    expect(attempts.get(13)).toEqual([1, 2, 3]);
    for (const n of [0, 10, 20, 30, 40]) expect(attempts.get(n)?.slice(-1)).toEqual([2]);
    const [[, fields]] = (await fx.redis.client().xrange(`${pattern}:dlq`, '-', '+')) as [string, string[]][];
    expect(fields).toEqual(expect.arrayContaining([DEAD_LETTER_FIELDS.errorMessage, '13 poisons its batch']));
  });
});
