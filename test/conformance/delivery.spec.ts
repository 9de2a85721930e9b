import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InvalidOptionsError, RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

/** A controller class counting how often each event id was handled. */
function countingHandler(pattern: string, counts: Map<number, number>, onEach?: (id: number) => Promise<void> | void) {
  @Controller()
  class Counting {
    @EventPattern(pattern)
    async handle(@Payload() data: { n: number }) {
      await onEach?.(data.n);
      counts.set(data.n, (counts.get(data.n) ?? 0) + 1);
    }
  }
  return Counting;
}

describe('event delivery', () => {
  it('handles 10,000 concurrently emitted events exactly once each and acks them all', async () => {
    const pattern = uniqueName('burst');
    const counts = new Map<number, number>();
    fx.apps.push(await startApp([countingHandler(pattern, counts)], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client();
    const ids = await Promise.all(Array.from({ length: 10_000 }, (_, n) => lastValueFrom(client.emit(pattern, { n }))));
    expect(new Set(ids).size).toBe(10_000);
    await waitFor(() => counts.size === 10_000, 'all 10,000 events handled', 60_000);
    expect([...counts.values()].every(c => c === 1)).toBe(true);
    await waitFor(async () => (await fx.pending(pattern, 'g')) === 0, 'pending count 0');
    const groups = (await fx.redis.client().xinfo('GROUPS', pattern)) as unknown[][];
    expect(groups).toHaveLength(1);
  });

  it('splits the work between two servers of one group, handling no event twice', async () => {
    const pattern = uniqueName('split');
    const a = new Map<number, number>();
    const b = new Map<number, number>();
    // A slow handler makes each server's slots fill up, so both must take part.
    const slow = () => new Promise<void>(r => setTimeout(r, 2));
    fx.apps.push(await startApp([countingHandler(pattern, a, slow)], { connection: fx.redis.url, group: 'g', consumer: 'a', concurrency: 4 }));
    fx.apps.push(await startApp([countingHandler(pattern, b, slow)], { connection: fx.redis.url, group: 'g', consumer: 'b', concurrency: 4 }));
    const client = fx.client();
    await client.emitMany(pattern, Array.from({ length: 1000 }, (_, n) => ({ n })));
    await waitFor(() => a.size + b.size === 1000, 'all events handled by the two servers');
    expect(a.size).toBeGreaterThan(0);
    expect(b.size).toBeGreaterThan(0);
    for (const n of a.keys()) expect(b.has(n)).toBe(false);
    expect([...a.values(), ...b.values()].every(c => c === 1)).toBe(true);
    await waitFor(async () => (await fx.pending(pattern, 'g')) === 0, 'pending count 0');
  });

  it('gives every event to each of two groups', async () => {
    const pattern = uniqueName('fanout');
    const g1 = new Map<number, number>();
    const g2 = new Map<number, number>();
    fx.apps.push(await startApp([countingHandler(pattern, g1)], { connection: fx.redis.url, group: 'billing' }));
    fx.apps.push(await startApp([countingHandler(pattern, g2)], { connection: fx.redis.url, group: 'shipping' }));
    await fx.client().emitMany(pattern, Array.from({ length: 500 }, (_, n) => ({ n })));
    await waitFor(() => g1.size === 500 && g2.size === 500, 'both groups handled every event');
    expect([...g1.values(), ...g2.values()].every(c => c === 1)).toBe(true);
  });

  it('keeps going after a failing handler and leaves the failed entry pending for its retry', async () => {
    const pattern = uniqueName('failing');
    const handled: number[] = [];
    @Controller()
    class Failing {
      @EventPattern(pattern)
      handle(@Payload() data: { n: number }) {
        if (data.n === 0) throw new Error('boom');
        handled.push(data.n);
      }
    }
    // A long backoff: the failed entry waits for its retry, pending, while the others go through.
    fx.apps.push(await startApp([Failing], { connection: fx.redis.url, group: 'g', retry: { backoff: { delayMs: 60_000 } } }));
    await fx.client().emitMany(pattern, Array.from({ length: 50 }, (_, n) => ({ n })));
    await waitFor(() => handled.length === 49, 'the 49 good events handled');
    await waitFor(async () => (await fx.pending(pattern, 'g')) === 1, 'only the failed entry pending');
    const [[id]] = (await fx.redis.client().xpending(pattern, 'g', '-', '+', 10)) as [string, string, number, number][];
    const [[firstId]] = (await fx.redis.client().xrange(pattern, '-', '+', 'COUNT', 1)) as [string, string[]][];
    expect(id).toBe(firstId);
  });

  it('loses nothing when closed while handlers are still running', async () => {
    const pattern = uniqueName('graceful');
    const finished = new Set<number>();
    let started = 0;
    @Controller()
    class Slow {
      @EventPattern(pattern)
      async handle(@Payload() data: { n: number }) {
        started++;
        await new Promise(r => setTimeout(r, 300));
        finished.add(data.n);
      }
    }
    const first = await startApp([Slow], { connection: fx.redis.url, group: 'g', consumer: 'first', concurrency: 8 });
    fx.apps.push(first);
    await fx.client().emitMany(pattern, Array.from({ length: 100 }, (_, n) => ({ n })));
    await waitFor(() => started >= 8, 'handlers in flight');
    await first.close();
    // Everything started was finished and acked; nothing else was taken.
    const afterClose = finished.size;
    expect(afterClose).toBe(started);
    expect(await fx.pending(pattern, 'g')).toBe(0);
    // A second server of the group takes the rest: every event handled exactly once in all.
    fx.apps.push(await startApp([Slow], { connection: fx.redis.url, group: 'g', consumer: 'second', concurrency: 50 }));
    await waitFor(() => finished.size === 100, 'the rest handled by the second server');
    expect(started).toBe(100);
  });

  it('rejects bad options at construction with a message naming the option', () => {
    const make = (o: unknown) => () => new RedisStreamsServer(o as never);
    expect(make({})).toThrow(InvalidOptionsError);
    expect(make({})).toThrow(/"group"/);
    expect(make({ group: 'g', concurrency: 0 })).toThrow(/"concurrency".*>= 1/);
    expect(make({ group: 'g', blockMs: 0 })).toThrow(/"blockMs"/);
    expect(make({ group: 'g', retry: { maxAttempts: 0 } })).toThrow(/"retry.maxAttempts"/);
    expect(make({ group: 'g', retry: { backoff: { type: 'linear' } } })).toThrow(/"retry.backoff.type"/);
    expect(make({ group: 'g', retry: { backoff: { delayMs: 500, maxDelayMs: 100 } } })).toThrow(/maxDelayMs/);
    expect(make({ group: 'g', ack: 'sometimes' })).toThrow(/"ack"/);
    expect(() => new RedisStreamsClient({ maxLen: -1 })).toThrow(/"maxLen"/);
  });

  it('trims streams approximately when maxLen is set, per pattern too', async () => {
    const a = uniqueName('trim-a');
    const b = uniqueName('trim-b');
    const client = fx.client({ maxLen: 100, maxLenByPattern: { [b]: 1000 } });
    await client.emitMany(a, Array.from({ length: 2000 }, (_, n) => ({ n })));
    await Promise.all(Array.from({ length: 2000 }, (_, n) => lastValueFrom(client.emit(b, { n }))));
    const r = fx.redis.client();
    expect(await r.xlen(a)).toBeLessThan(300);
    expect(await r.xlen(b)).toBeGreaterThanOrEqual(1000);
    expect(await r.xlen(b)).toBeLessThan(1300);
  });
});
