import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext, RedisStreamRecordBuilder, type RedisStreamsClient } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { sigkill, startChild } from '../harness/child.js';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();
const CONSUMER = 'consumer.mjs';

const delayed = (data: unknown, ms: number) => new RedisStreamRecordBuilder(data).setDelay(ms).build();
const emit = (client: RedisStreamsClient, pattern: string, record: unknown) => lastValueFrom(client.emit<string>(pattern, record));
const entryTime = (id: string) => Number(id.split('-')[0]);

/** A service on `pattern` recording each event with the id of the entry it came in. */
async function startRecorder(pattern: string) {
  const seen: Array<{ n: number; id: string }> = [];
  @Controller()
  class Recorder {
    @EventPattern<string>(pattern)
    handle(@Payload() event: { n: number }, @Ctx() ctx: RedisStreamContext) {
      seen.push({ n: event.n, id: ctx.getMessageId() });
    }
  }
  fx.apps.push(await startApp([Recorder], { connection: fx.redis.url, group: 'g', consumer: 'c1', scheduler: { pollMs: 100 } }));
  return seen;
}

describe('delayed emits', () => {
  it('setDelay(): the emit resolves with a schedule id once stored; the event enters its stream when due, not before', async () => {
    const pattern = uniqueName('reminders');
    const seen = await startRecorder(pattern);
    const client = fx.client();
    const before = Date.now();
    const id = await emit(client, pattern, delayed({ n: 1 }, 400));
    expect(id).toMatch(/^sched-[0-9a-f-]{36}$/);
    await waitFor(() => seen.length === 1, 'the delayed event');
    // The entry was added by the mover at its time (the id's ms part is Redis's clock when it was added).
    expect(entryTime(seen[0].id)).toBeGreaterThanOrEqual(before + 400);
    expect(await fx.redis.client().zcard(`{${pattern}}:scheduled`)).toBe(0);
    expect(await fx.redis.client().hlen(`{${pattern}}:scheduled:entries`)).toBe(0);
  });

  it('setDeliverAt(): at a time; one in the past is due at once; emitMany mixes delayed and immediate events', async () => {
    const pattern = uniqueName('charges');
    const seen = await startRecorder(pattern);
    const client = fx.client();
    const at = Date.now() + 300;
    await emit(client, pattern, new RedisStreamRecordBuilder({ n: 1 }).setDeliverAt(new Date(at)).build());
    await emit(client, pattern, new RedisStreamRecordBuilder({ n: 2 }).setDeliverAt(0).build());
    const emittedMany = Date.now();
    const ids = await client.emitMany(pattern, [{ n: 3 }, delayed({ n: 4 }, 200)]);
    expect(ids[0]).toMatch(/^\d+-\d+$/);
    expect(ids[1]).toMatch(/^sched-/);
    await waitFor(() => seen.length === 4, 'all four events');
    // Each delayed one entered its stream at its time or later (an entry id's ms part is Redis's clock when added).
    const byN = new Map(seen.map(s => [s.n, s.id]));
    expect(entryTime(byN.get(1)!)).toBeGreaterThanOrEqual(at);
    expect(entryTime(byN.get(4)!)).toBeGreaterThanOrEqual(emittedMany + 200);
  });

  it('cancelScheduled(): a cancelled event never enters the stream', async () => {
    const pattern = uniqueName('reminders');
    const client = fx.client();
    // Scheduled and cancelled before any consumer (any mover) runs: however slow the machine, none is moved yet.
    const cancelled = await emit(client, pattern, delayed({ n: 1 }, 300));
    await emit(client, pattern, delayed({ n: 2 }, 300));
    expect(await client.cancelScheduled(pattern, cancelled)).toBe(true);
    expect(await client.cancelScheduled(pattern, cancelled)).toBe(false);
    const seen = await startRecorder(pattern);
    // Both were due together and are moved in due order: once n=2 is handled, n=1 would have been too.
    await waitFor(() => seen.length === 1, 'the event that was not cancelled');
    expect(seen.map(s => s.n)).toEqual([2]);
    expect(await fx.redis.client().xlen(pattern)).toBe(1);
  });

  it('refuses a delayed request, a delayed keyed emit, and a negative delay', async () => {
    const client = fx.client();
    await expect(lastValueFrom(client.send(uniqueName('rpc'), delayed({}, 10)))).rejects.toThrow('requests cannot be delayed');
    const both = new RedisStreamRecordBuilder({}).setDelay(10).setIdempotencyKey('k').build();
    await expect(emit(client, uniqueName('x'), both)).rejects.toThrow('a delayed emit takes no idempotency key');
    expect(() => new RedisStreamRecordBuilder({}).setDelay(-1)).toThrow('delay must be an integer >= 0 ms');
    expect(() => new RedisStreamRecordBuilder({}).setDeliverAt(new Date('nope'))).toThrow('deliverAt must be a Date');
  });

  it('moves 5,000 events due at once into the stream exactly once, with three consumers moving and one SIGKILLed once moving began', async () => {
    const pattern = uniqueName('burst');
    const redis = fx.redis.client();
    const consumers = await Promise.all(['m1', 'm2', 'm3'].map(name => startChild(CONSUMER, [fx.redis.url, pattern, name, '0'])));
    try {
      const client = fx.client();
      const at = Date.now() + 1500;
      const ids: string[] = [];
      for (let i = 0; i < 5000; i += 500) {
        ids.push(...(await client.emitMany(pattern, Array.from({ length: 500 }, (_, k) => new RedisStreamRecordBuilder({ n: i + k }).setDeliverAt(at).build()))));
      }
      // Every one scheduled, none written at once (a slow machine may be past `at` already: then moving has begun).
      expect(ids.filter(id => !id.startsWith('sched-'))).toEqual([]);
      await waitFor(async () => (await redis.xlen(pattern)) > 0, 'the first events moved in', 10_000);
      await sigkill(consumers[0]);
      // What the killed one held is claimed after claim.minIdleMs (30 s by default).
      await waitFor(async () => (await redis.scard(`handled:${pattern}`)) === 5000, 'all 5000 handled by the two left', 60_000);
      expect(await redis.xlen(pattern)).toBe(5000);
      expect(await redis.zcard(`{${pattern}}:scheduled`)).toBe(0);
      const lateness = ((await redis.xrange(pattern, '-', '+')) as Array<[string, string[]]>).map(([id]) => entryTime(id) - at).sort((a, b) => a - b);
      expect(lateness[0]).toBeGreaterThanOrEqual(0);
      console.info(`5,000 delayed events due at once: lateness p50 ${lateness[2500]} ms, p99 ${lateness[4950]} ms, max ${lateness[4999]} ms (3 consumers moving, one SIGKILLed; a busy 2-core machine)`);
    } finally {
      await Promise.all(consumers.map(sigkill));
    }
  }, 90_000);
});
