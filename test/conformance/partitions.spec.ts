import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  InvalidOptionsError,
  PartitionError,
  RedisStreamContext,
  RedisStreamRecordBuilder,
  RedisStreamsServer,
  partitionOf,
  type RedisStreamsServerOptions,
} from '@nestream/transport';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { sigkill, startChild } from '../harness/child.js';
import { monitorCommands } from '../harness/command-monitor.js';
import { uniqueName, waitFor } from '../harness/wait.js';

/**
 * Partitioned streams (`@EventPattern(p, { partitions: n })`): routing by partition key, the count recorded in
 * Redis, dead letters per partition, and, with `ordered: true`, partitions shared out among the group's
 * consumers by leases so that the order per key holds across the group, failures and a crash included.
 */
const fx = useRedis();
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(sigkill));
});

const keyed = (data: unknown, key: string) => new RedisStreamRecordBuilder(data).setPartitionKey(key).build();

/** The consumer holding each partition's lease (`<partition>:owner:<group>`), by consumer: partition indexes. */
async function owners(pattern: string, partitions: number, group = 'g'): Promise<Map<string, number[]>> {
  const redis = fx.redis.client();
  const byConsumer = new Map<string, number[]>();
  for (let i = 0; i < partitions; i++) {
    const owner = await redis.get(`${pattern}:{${i}}:owner:${group}`);
    if (owner !== null) byConsumer.set(owner, [...(byConsumer.get(owner) ?? []), i]);
  }
  return byConsumer;
}

/** Pending entries of every partition of a pattern, together. */
async function pendingIn(pattern: string, partitions: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < partitions; i++) n += await fx.pending(`${pattern}:{${i}}`).catch(() => 0);
  return n;
}

/** A Nest microservice whose listen() is expected to fail; returns the error, the app closed. */
async function failingListen(controllers: unknown[], options: RedisStreamsServerOptions): Promise<Error> {
  @Module({ controllers: controllers as never[] })
  class FailingModule {}
  const app: INestMicroservice = await NestFactory.createMicroservice(FailingModule, { strategy: new RedisStreamsServer(options), logger: false });
  const error = await app.listen().then(
    () => new Error('listen() resolved'),
    (err: Error) => err,
  );
  await app.close();
  return error;
}

describe('partitioned streams', () => {
  it('routes each partition key to one partition (its CRC16 slot mod n), spreads keys over all partitions, and events without a key round-robin', async () => {
    const pattern = uniqueName('routed');
    const seen: Array<{ key?: string; seq: number; partition?: number; stream: string }> = [];
    @Controller()
    class Recorder {
      @EventPattern(pattern, { partitions: 8 })
      handle(@Payload() data: { key?: string; seq: number }, @Ctx() ctx: RedisStreamContext) {
        seen.push({ key: data.key, seq: data.seq, partition: ctx.getPartition(), stream: ctx.getStream() });
      }
    }
    fx.apps.push(await startApp([Recorder], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client();
    const keys = Array.from({ length: 100 }, (_, i) => `order-${i}`);
    for (const key of keys) await lastValueFrom(client.emit(pattern, keyed({ key, seq: 0 }, key)));
    await client.emitMany(pattern, keys.map(key => keyed({ key, seq: 1 }, key)));
    await client.emitMany(pattern, Array.from({ length: 16 }, (_, seq) => ({ seq })));
    await waitFor(() => seen.length === 216, 'all 216 events handled');

    const partitionsOfKey = new Map<string, Set<number>>();
    for (const s of seen) {
      expect(s.stream).toBe(`${pattern}:{${s.partition}}`);
      if (s.key !== undefined) partitionsOfKey.set(s.key, (partitionsOfKey.get(s.key) ?? new Set()).add(s.partition!));
    }
    for (const key of keys) expect([...partitionsOfKey.get(key)!]).toEqual([partitionOf(key, 8)]);
    expect(new Set([...partitionsOfKey.values()].flatMap(p => [...p])).size).toBe(8);
    // Without a key: round-robin, 16 events over 8 partitions, two each.
    const unkeyed = seen.filter(s => s.key === undefined).map(s => s.partition!);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(p => unkeyed.filter(u => u === p).length)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(await fx.redis.client().exists(pattern)).toBe(0); // nothing went to the pattern's own stream
  });

  it('records the partition count at listen(); a client reads it once per pattern, on its first emit', async () => {
    const pattern = uniqueName('count');
    @Controller()
    class Quiet {
      @EventPattern(pattern, { partitions: 4 })
      handle() {}
    }
    fx.apps.push(await startApp([Quiet], { connection: fx.redis.url, group: 'g' }));
    const redis = fx.redis.client();
    expect(await redis.get(`nestream:partitions:${pattern}`)).toBe('4');
    const gets = async () => Number(/cmdstat_get:calls=(\d+)/.exec((await redis.info('commandstats')) as string)?.[1] ?? 0);
    const client = fx.client();
    const before = await gets();
    await Promise.all(Array.from({ length: 50 }, (_, n) => lastValueFrom(client.emit(pattern, { n }))));
    await client.emitMany(pattern, [{ n: 50 }, { n: 51 }]);
    await lastValueFrom(client.emit(pattern, { n: 52 }));
    expect((await gets()) - before).toBe(1);
    expect(await pendingIn(pattern, 4) + (await Promise.all([0, 1, 2, 3].map(i => redis.xlen(`${pattern}:{${i}}`)))).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(53);
  });

  it('lets every consumer of the group read every partition without ordered (no leases)', async () => {
    const pattern = uniqueName('shared');
    const handled: string[] = [];
    const consumer = (name: string) => {
      @Controller()
      class Shared {
        @EventPattern(pattern, { partitions: 4 })
        handle(@Payload() data: { n: number }) {
          handled.push(`${name}:${data.n}`);
        }
      }
      return Shared;
    };
    // What each consumer's XREADGROUP names, as Redis sees it.
    const read = new Map<string, Set<string>>();
    const monitor = await monitorCommands(fx.redis.port, ({ args }) => {
      if (args[0]?.toLowerCase() !== 'xreadgroup') return;
      const consumerName = args[3];
      const streams = args.slice(args.findIndex(a => a.toUpperCase() === 'STREAMS') + 1);
      const set = read.get(consumerName) ?? new Set();
      for (const s of streams.slice(0, streams.length / 2)) set.add(s);
      read.set(consumerName, set);
    });
    try {
      for (const name of ['a', 'b']) fx.apps.push(await startApp([consumer(name)], { connection: fx.redis.url, group: 'g', consumer: name }));
      await fx.client().emitMany(pattern, Array.from({ length: 200 }, (_, n) => ({ n })));
      await waitFor(() => handled.length === 200, 'all 200 handled');
      const partitions = [0, 1, 2, 3].map(i => `${pattern}:{${i}}`);
      await waitFor(() => ['a', 'b'].every(c => partitions.every(p => read.get(c)?.has(p))), 'both consumers reading all 4 partitions');
    } finally {
      monitor.stop();
    }
    const redis = fx.redis.client();
    for (let i = 0; i < 4; i++) expect(await redis.exists(`${pattern}:{${i}}:owner:g`)).toBe(0);
    expect(await redis.exists(`nestream:partition-consumers:1:g:${pattern}`)).toBe(0);
    expect(new Set(handled.map(h => h.split(':')[1])).size).toBe(200);
  });

  it('fails listen() clearly when Redis records another partition count for the pattern, or one for a pattern read without partitions', async () => {
    const pattern = uniqueName('recount');
    @Controller()
    class Eight {
      @EventPattern(pattern, { partitions: 8 })
      handle() {}
    }
    const first = await startApp([Eight], { connection: fx.redis.url, group: 'g' });
    await first.close();

    @Controller()
    class Four {
      @EventPattern(pattern, { partitions: 4 })
      handle() {}
    }
    const changed = await failingListen([Four], { connection: fx.redis.url, group: 'other' });
    expect(changed.cause ?? changed).toBeInstanceOf(PartitionError);
    expect(changed.message).toContain(`{ partitions: 4 }): Redis records "8" partitions for the pattern (nestream:partitions:${pattern})`);
    expect(changed.message).toContain('Changing the partition count of a live pattern is not supported');
    expect(changed.message).toContain('Keep { partitions: 8 }, or move to a new pattern name');

    @Controller()
    class Plain {
      @EventPattern(pattern)
      handle() {}
    }
    const unpartitioned = await failingListen([Plain], { connection: fx.redis.url, group: 'third' });
    expect(unpartitioned.message).toContain(`@EventPattern('${pattern}') has no partitions, but Redis records 8 for the pattern`);
    expect(unpartitioned.message).toContain(`Declare @EventPattern('${pattern}', { partitions: 8 })`);
    expect(await fx.redis.client().get(`nestream:partitions:${pattern}`)).toBe('8');
  });

  it('rejects partitions on a @MessagePattern, and partition counts outside 1..1024, at listen()', async () => {
    const pattern = uniqueName('request');
    @Controller()
    class Requests {
      @MessagePattern(pattern, { partitions: 2 })
      answer() {
        return 1;
      }
    }
    const request = await failingListen([Requests], { connection: fx.redis.url, group: 'g' });
    expect(request).toBeInstanceOf(InvalidOptionsError);
    expect(request.message).toContain('requests are not partitioned');
    for (const partitions of [0, 1025, 2.5]) {
      @Controller()
      class Bad {
        @EventPattern(uniqueName('bad'), { partitions })
        handle() {}
      }
      const error = await failingListen([Bad], { connection: fx.redis.url, group: 'g' });
      expect(error.message).toContain('extras.partitions": must be an integer from 1 to 1024');
    }
    @Controller()
    class Ordered {
      @EventPattern(uniqueName('short'), { partitions: 2, ordered: true })
      handle() {}
    }
    const short = await failingListen([Ordered], { connection: fx.redis.url, group: 'g', claim: { minIdleMs: 3000, intervalMs: 1000 }, blockMs: 2000 });
    expect(short.message).toContain('"claim.minIdleMs": is 3000; with ordered partitions');
    expect(short.message).toContain('must be at least 2 x claim.intervalMs + blockMs (4000)');
  });

  it('rejects ackBatch outside ordered partitions, and outside 1..1000, at listen()', async () => {
    const refusals: Array<[object, string]> = [
      [{ ackBatch: 8 }, 'extras.ackBatch": is for ordered partitions only'],
      [{ partitions: 2, ackBatch: 8 }, 'extras.ackBatch": is for ordered partitions only'],
      [{ ordered: true, ackBatch: 8 }, 'extras.ackBatch": is for ordered partitions only'],
      [{ partitions: 2, ordered: true, ackBatch: 0 }, 'extras.ackBatch": must be an integer >= 1, got 0'],
      [{ partitions: 2, ordered: true, ackBatch: 2.5 }, 'extras.ackBatch": must be an integer >= 1, got 2.5'],
      [{ partitions: 2, ordered: true, ackBatch: 1001 }, 'extras.ackBatch": must be an integer from 1 to 1000, got 1001'],
    ];
    for (const [extras, message] of refusals) {
      @Controller()
      class Bad {
        @EventPattern(uniqueName('ack-batch'), extras)
        handle() {}
      }
      const error = await failingListen([Bad], { connection: fx.redis.url, group: 'g' });
      expect({ extras, error: error.message }).toEqual({ extras, error: expect.stringContaining(message) });
    }
  });

  it('fails an emit with a partition key to a pattern without partitions, a request with one, and a client count Redis contradicts', async () => {
    const plain = uniqueName('plain');
    const client = fx.client();
    const error = await lastValueFrom(client.emit(plain, keyed({ a: 1 }, 'k'))).then(
      () => new Error('resolved'),
      (err: Error) => err,
    );
    expect(error).toBeInstanceOf(PartitionError);
    expect(error.message).toContain(`emit("${plain}"): the event has a partition key, but "${plain}" has no partitions`);
    await expect(client.emitMany(plain, [{ a: 1 }, keyed({ a: 2 }, 'k')])).rejects.toThrow(PartitionError);
    expect(await fx.redis.client().exists(plain)).toBe(0); // nothing written, not even the event without a key
    await expect(firstValueFrom(client.send(plain, keyed([1], 'k')))).rejects.toThrow('requests are not partitioned');
    expect(() => new RedisStreamRecordBuilder({}).setPartitionKey('')).toThrow(TypeError);

    const partitioned = uniqueName('eight');
    @Controller()
    class Eight {
      @EventPattern(partitioned, { partitions: 8 })
      handle() {}
    }
    fx.apps.push(await startApp([Eight], { connection: fx.redis.url, group: 'g' }));
    const wrong = fx.client({ partitions: { [partitioned]: 4 } });
    const mismatch = await lastValueFrom(wrong.emit(partitioned, { a: 1 })).then(
      () => new Error('resolved'),
      (err: Error) => err,
    );
    expect(mismatch).toBeInstanceOf(PartitionError);
    expect(mismatch.message).toContain(`gives "${partitioned}" 4 partitions, but its consumers recorded 8 in Redis`);
    expect(() => fx.client({ partitions: { x: 0 } })).toThrow('Invalid nestream option "partitions.x": must be an integer from 1 to 1024');
  });

  it('routes by the client option before any consumer recorded the count; a client without it picks the partitions up once they are recorded', async () => {
    const pattern = uniqueName('early');
    const configured = fx.client({ partitions: { [pattern]: 2 } });
    const plain = fx.client();
    await lastValueFrom(configured.emit(pattern, keyed({ by: 'configured' }, 'k')));
    await lastValueFrom(plain.emit(pattern, { by: 'plain, before' })); // no count recorded yet: the pattern's own stream
    const redis = fx.redis.client();
    expect(await redis.xlen(`${pattern}:{${partitionOf('k', 2)}}`)).toBe(1);
    expect(await redis.xlen(pattern)).toBe(1);

    const handled: string[] = [];
    @Controller()
    class Late {
      @EventPattern(pattern, { partitions: 2 })
      handle(@Payload() data: { by: string }) {
        handled.push(data.by);
      }
    }
    fx.apps.push(await startApp([Late], { connection: fx.redis.url, group: 'g', startId: '0' }));
    await waitFor(() => handled.includes('configured'), 'the event of the configured client handled');
    // The plain client looks the pattern up again within a few seconds (PARTITION_RECHECK_MS) and then writes
    // to the partitions.
    await waitFor(async () => {
      await lastValueFrom(plain.emit(pattern, { by: 'plain, after' }));
      return handled.includes('plain, after');
    }, 'an event of the plain client in a partition', 15_000);
    expect(handled).not.toContain('plain, before');
  });

  it('retries and dead-letters per partition, into the partition\'s own dead-letter stream', async () => {
    const pattern = uniqueName('poison');
    const attempts = new Map<string, number[]>();
    @Controller()
    class Poison {
      @EventPattern(pattern, { partitions: 4, ordered: true, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } } })
      handle(@Payload() data: { key: string }, @Ctx() ctx: RedisStreamContext) {
        attempts.set(data.key, [...(attempts.get(data.key) ?? []), ctx.getPartition()!]);
        if (data.key.startsWith('bad')) throw new Error(`${data.key} is bad`);
      }
    }
    fx.apps.push(await startApp([Poison], {
      connection: fx.redis.url, group: 'g', blockMs: 200, claim: { minIdleMs: 2000, intervalMs: 100 },
    }));
    const keys = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? `bad-${i}` : `good-${i}`));
    await fx.client().emitMany(pattern, keys.map(key => keyed({ key }, key)));
    const bad = keys.filter(k => k.startsWith('bad'));
    const redis = fx.redis.client();
    const deadLetters = async (i: number) => (await redis.xrange(`${pattern}:{${i}}:dlq`, '-', '+')) as Array<[string, string[]]>;
    await waitFor(async () => (await Promise.all([0, 1, 2, 3].map(deadLetters))).flat().length === bad.length, 'every bad event dead-lettered');
    for (const key of bad) {
      const partition = partitionOf(key, 4);
      expect(attempts.get(key)).toEqual([partition, partition]);
      const letters = (await deadLetters(partition)).map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, j) => [f[2 * j], f[2 * j + 1]])));
      const letter = letters.find(l => JSON.parse(l.data).key === key)!;
      expect(letter).toMatchObject({ 'dlq.stream': `${pattern}:{${partition}}`, 'dlq.reason': 'max-attempts', 'dlq.attempts': '2' });
    }
    await waitFor(async () => (await pendingIn(pattern, 4)) === 0, 'nothing pending');
    for (const key of keys.filter(k => k.startsWith('good'))) expect(attempts.get(key)).toEqual([partitionOf(key, 4)]);
  });
});

describe('ordered partitions', () => {
  const lease = { blockMs: 200, claim: { minIdleMs: 2000, intervalMs: 100 } };

  it('shares 8 partitions out among 4 consumers, 2 each, and among the 3 left when one closes', async () => {
    const pattern = uniqueName('share');
    @Controller()
    class Ordered {
      @EventPattern(pattern, { partitions: 8, ordered: true })
      handle() {}
    }
    const apps: TestApp[] = [];
    for (const name of ['c1', 'c2', 'c3', 'c4']) {
      const app = await startApp([Ordered], { connection: fx.redis.url, group: 'g', consumer: name, ...lease });
      apps.push(app);
      fx.apps.push(app);
    }
    const counts = async () => [...(await owners(pattern, 8)).values()].map(p => p.length).sort();
    await waitFor(async () => JSON.stringify(await counts()) === '[2,2,2,2]', 'each of the 4 consumers owning 2 partitions');
    await waitFor(() => apps.every(a => a.server.ownedPartitions.get(pattern)?.length === 2), 'each reading its 2 partitions');
    await apps[3].close();
    // Closing gives its partitions up and leaves the group's membership set: ceil(8 / 3) = 3 at most each.
    await waitFor(async () => JSON.stringify(await counts()) === '[2,3,3]', 'the 3 left owning every partition, 3 at most each');
    expect((await owners(pattern, 8)).has('c4')).toBe(false);
  });

  it("takes a partition's pending entries, whoever holds them, before it reads new ones (entries not idle long enough for a claim)", async () => {
    const pattern = uniqueName('heir');
    const stream = `${pattern}:{0}`;
    const redis = fx.redis.client();
    const add = (seq: number) => redis.xadd(stream, '*', 'data', JSON.stringify({ seq }));
    // A consumer that read 5 entries and died holding the partition's lease, which runs out in 300 ms.
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    for (let seq = 0; seq < 5; seq++) await add(seq);
    await redis.xreadgroup('GROUP', 'g', 'ghost', 'COUNT', 5, 'STREAMS', stream, '>');
    await redis.set(`${stream}:owner:g`, 'ghost', 'PX', 300);
    for (let seq = 5; seq < 10; seq++) await add(seq);

    const runs: Array<{ seq: number; count: number }> = [];
    @Controller()
    class Heir {
      @EventPattern(pattern, { partitions: 1, ordered: true })
      handle(@Payload() data: { seq: number }, @Ctx() ctx: RedisStreamContext) {
        runs.push({ seq: data.seq, count: ctx.getDeliveryCount() });
      }
    }
    // A lease (and claim.minIdleMs) of 10 s: the ghost's entries are far from idle enough for XAUTOCLAIM.
    fx.apps.push(await startApp([Heir], { connection: fx.redis.url, group: 'g', consumer: 'heir', blockMs: 50, claim: { minIdleMs: 10_000, intervalMs: 100 } }));
    await waitFor(() => runs.length === 10, 'all 10 run');
    expect(runs.map(r => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(runs.map(r => r.count)).toEqual([2, 2, 2, 2, 2, 1, 1, 1, 1, 1]);
    expect(await redis.get(`${stream}:owner:g`)).toBe('heir');
  });

  it('keeps the order per key across consumer processes, with failures retried, one consumer SIGKILLed and another joining mid-run', async () => {
    const pattern = uniqueName('orders');
    const partitions = 8;
    const start = (name: string) => startChild('partition-consumer.mjs', [fx.redis.url, pattern, name, String(partitions), '2000', '500']);
    const started = await Promise.all(['p1', 'p2', 'p3', 'p4'].map(start));
    children.push(...started);
    const shares = async () => [...(await owners(pattern, partitions)).entries()].map(([c, p]) => `${c}:${p.length}`).sort().join(' ');
    await waitFor(async () => (await shares()) === 'p1:2 p2:2 p3:2 p4:2', 'the partitions shared out, 2 each');

    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    const rounds = 60;
    const client = fx.client();
    const redis = fx.redis.client();
    const recorded = async () => (await Promise.all(keys.map(k => redis.llen(`order:${pattern}:${k}`)))).reduce((a, b) => a + b, 0);
    // Rounds of one event per key (every 7th fails once), the producer staying about 8 rounds ahead of the
    // consumers, so events flow through the crash, the take-over and the rebalancing.
    let seq = 0;
    const produce = async (until: number) => {
      for (; seq < until; seq++) {
        await client.emitMany(pattern, keys.map(key => keyed({ key, seq, fail: seq % 7 === 3 }, key)));
        const behind = (seq - 8) * keys.length;
        await waitFor(async () => (await recorded()) >= behind, `the consumers within 8 rounds of round ${seq}`, 30_000);
      }
    };
    await produce(12);
    await sigkill(started[1]);
    await produce(24);
    await waitFor(async () => !(await owners(pattern, partitions)).has('p2') && (await owners(pattern, partitions)).size === 3, "p2's partitions taken over", 30_000);
    children.push(await start('p5'));
    await produce(36);
    await waitFor(async () => (await shares()) === 'p1:2 p3:2 p4:2 p5:2', 'the partitions shared out again, 2 each, p5 included', 30_000);
    await produce(rounds);

    const lists = async () => Promise.all(keys.map(async k => (await redis.lrange(`order:${pattern}:${k}`, 0, -1)).map(Number)));
    await waitFor(async () => (await lists()).every(l => new Set(l).size === rounds), 'every event handled', 60_000);
    await waitFor(async () => (await pendingIn(pattern, partitions)) === 0, 'nothing pending');
    for (const list of await lists()) {
      // At least once: the entry running at the crash (or failing) may run again right after itself; the order
      // never goes back.
      const deduplicated = list.filter((n, i) => i === 0 || n !== list[i - 1]);
      expect(deduplicated).toEqual(Array.from({ length: rounds }, (_, n) => n));
    }
  });

  it('lets a consumer restarted under the same name take its partitions back at once, its pending entries first', async () => {
    const pattern = uniqueName('phoenix');
    // A minute's lease: only taking back its own leases can explain the restarted consumer going on quickly.
    const before = await startChild('partition-consumer.mjs', [fx.redis.url, pattern, 'phoenix', '2', '60000', '100']);
    children.push(before);
    await waitFor(async () => (await owners(pattern, 2)).get('phoenix')?.length === 2, 'phoenix owning both partitions');
    const client = fx.client();
    await client.emitMany(pattern, Array.from({ length: 100 }, (_, seq) => keyed({ key: 'k', seq }, 'k')));
    const redis = fx.redis.client();
    await waitFor(async () => (await redis.llen(`order:${pattern}:k`)) >= 10, 'some events handled');
    await sigkill(before);
    await client.emitMany(pattern, Array.from({ length: 20 }, (_, i) => keyed({ key: 'k', seq: 100 + i }, 'k')));
    const after = await startChild('partition-consumer.mjs', [fx.redis.url, pattern, 'phoenix', '2', '60000', '100']);
    children.push(after);
    await waitFor(async () => new Set(await redis.lrange(`order:${pattern}:k`, 0, -1)).size === 120, 'all 120 handled', 20_000);
    const list = (await redis.lrange(`order:${pattern}:k`, 0, -1)).map(Number);
    expect(list.filter((seq, i) => i === 0 || seq !== list[i - 1])).toEqual(Array.from({ length: 120 }, (_, seq) => seq));
    await waitFor(async () => (await pendingIn(pattern, 2)) === 0, 'nothing pending');
  });
});
