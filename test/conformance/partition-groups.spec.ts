import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InvalidOptionsError, RedisStreamRecordBuilder, RedisStreamsServer, type RedisStreamsServerOptions } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { sigkill, startChild } from '../harness/child.js';
import { uniqueName, waitFor } from '../harness/wait.js';

/**
 * One ordered partitioned pattern read by several consumer groups (issue 19, item 1): each group leases the
 * partitions apart (`<partition>:owner:<group>`) and keeps its own membership set, so every group handles every
 * event, in order per key, through a crash and a joiner; groups and patterns that join to the same text with
 * `:` keep apart sets; key layouts that could collide are refused at listen().
 */
const fx = useRedis();
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(sigkill));
});

const keyed = (data: unknown, key: string) => new RedisStreamRecordBuilder(data).setPartitionKey(key).build();

/** The consumers holding a group's leases on a pattern's partitions, `consumer:count` sorted. */
async function shares(pattern: string, partitions: number, group: string): Promise<string> {
  const redis = fx.redis.client();
  const counts = new Map<string, number>();
  for (let i = 0; i < partitions; i++) {
    const owner = await redis.get(`${pattern}:{${i}}:owner:${group}`);
    if (owner !== null) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return [...counts].map(([c, n]) => `${c}:${n}`).sort().join(' ');
}

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

describe('ordered partitions read by several groups', () => {
  it('fans one ordered pattern out to 3 groups: each handles every event in order per key, one consumer SIGKILLed and another joining', async () => {
    const pattern = uniqueName('fanout');
    const partitions = 4;
    const groups = ['billing', 'shipping', 'audit'];
    const start = (name: string, group: string) =>
      startChild('partition-consumer.mjs', [fx.redis.url, pattern, name, String(partitions), '2000', '500', group]);
    // billing: two consumers, one of them killed mid-run; shipping: one, joined by a second mid-run; audit: one.
    const [billing1, billing2, shipping1, audit1] = await Promise.all([
      start('b1', 'billing'), start('b2', 'billing'), start('s1', 'shipping'), start('a1', 'audit'),
    ]);
    children.push(billing1, billing2, shipping1, audit1);
    await waitFor(async () => (await shares(pattern, partitions, 'billing')) === 'b1:2 b2:2', 'billing sharing its partitions 2 and 2');
    await waitFor(async () => (await shares(pattern, partitions, 'shipping')) === 's1:4', 'shipping owning all 4 partitions');
    await waitFor(async () => (await shares(pattern, partitions, 'audit')) === 'a1:4', 'audit owning all 4 partitions');

    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const rounds = 30;
    const client = fx.client();
    const redis = fx.redis.client();
    const handled = async (group: string) =>
      (await Promise.all(keys.map(k => redis.llen(`order:${pattern}:${group}:${k}`)))).reduce((a, b) => a + b, 0);
    let seq = 0;
    // Rounds of one event per key, the producer staying within 5 rounds of the slowest group.
    const produce = async (until: number) => {
      for (; seq < until; seq++) {
        await client.emitMany(pattern, keys.map(key => keyed({ key, seq }, key)));
        const behind = (seq - 5) * keys.length;
        for (const group of groups) await waitFor(async () => (await handled(group)) >= behind, `${group} within 5 rounds of round ${seq}`, 30_000);
      }
    };
    await produce(8);
    await sigkill(billing2);
    await produce(16);
    await waitFor(async () => (await shares(pattern, partitions, 'billing')) === 'b1:4', "b2's partitions taken over by b1", 30_000);
    children.push(await start('s2', 'shipping'));
    await produce(22);
    await waitFor(async () => (await shares(pattern, partitions, 'shipping')) === 's1:2 s2:2', 'shipping sharing its partitions with the joiner', 30_000);
    await produce(rounds);

    const lists = async (group: string) => Promise.all(keys.map(async k => (await redis.lrange(`order:${pattern}:${group}:${k}`, 0, -1)).map(Number)));
    for (const group of groups) {
      await waitFor(async () => (await lists(group)).every(l => new Set(l).size === rounds), `${group}: every event handled`, 60_000);
    }
    let repeated = 0;
    for (const group of groups) {
      for (const list of await lists(group)) {
        // No loss, no order violation: deduplicated, each key's list is 0..rounds-1. A repeat can only be the
        // entry running when b2 was killed, right after itself.
        const deduplicated = list.filter((n, i) => i === 0 || n !== list[i - 1]);
        expect({ group, list: deduplicated }).toEqual({ group, list: Array.from({ length: rounds }, (_, n) => n) });
        if (group !== 'billing') expect({ group, list }).toEqual({ group, list: deduplicated });
        repeated += list.length - deduplicated.length;
      }
    }
    // At most one entry per partition b2 owned was running when it died.
    expect(repeated).toBeLessThanOrEqual(2);
    for (const group of groups) {
      for (let i = 0; i < partitions; i++) await waitFor(async () => (await fx.pending(`${pattern}:{${i}}`, group)) === 0, `${group}: nothing pending on partition ${i}`);
    }
  });

  it("keeps group 'a:b' on pattern 'c' and group 'a' on pattern 'b:c' apart: each owns all its partitions", async () => {
    const a = uniqueName('a');
    const c = uniqueName('c');
    // Joined with ':', both are `${a}:b:${c}`: one membership set before, so each saw 2 consumers and owned 2 of 4.
    const handled = new Map<string, Set<number>>();
    const consumerOf = (pattern: string) => {
      @Controller()
      class Ordered {
        @EventPattern(pattern, { partitions: 4, ordered: true })
        handle(@Payload() data: { n: number }) {
          handled.set(pattern, (handled.get(pattern) ?? new Set()).add(data.n));
        }
      }
      return Ordered;
    };
    const lease = { blockMs: 200, claim: { minIdleMs: 2000, intervalMs: 100 } };
    const first = await startApp([consumerOf(c)], { connection: fx.redis.url, group: `${a}:b`, consumer: 'one', ...lease });
    const second = await startApp([consumerOf(`b:${c}`)], { connection: fx.redis.url, group: a, consumer: 'two', ...lease });
    fx.apps.push(first, second);
    await waitFor(
      () => first.server.ownedPartitions.get(c)?.length === 4 && second.server.ownedPartitions.get(`b:${c}`)?.length === 4,
      'each group owning all 4 partitions of its pattern',
    );
    const client = fx.client();
    for (const pattern of [c, `b:${c}`]) await client.emitMany(pattern, Array.from({ length: 40 }, (_, n) => keyed({ n }, `k${n}`)));
    await waitFor(() => handled.get(c)?.size === 40 && handled.get(`b:${c}`)?.size === 40, 'every event of both patterns handled');
    const redis = fx.redis.client();
    expect(await redis.zrange(`nestream:partition-consumers:${a.length + 2}:${a}:b:${c}`, 0, -1)).toEqual(['one']);
    expect(await redis.zrange(`nestream:partition-consumers:${a.length}:${a}:b:${c}`, 0, -1)).toEqual(['two']);
  });

  it('refuses at listen() an ordered pattern whose lease keys could be another group\'s, and a key with two uses', async () => {
    const sneaky = `${uniqueName('a')}:{0}:owner`;
    @Controller()
    class Sneaky {
      @EventPattern(sneaky, { partitions: 2, ordered: true })
      handle() {}
    }
    const lease = { blockMs: 200, claim: { minIdleMs: 2000, intervalMs: 100 } };
    const ambiguous = await failingListen([Sneaky], { connection: fx.redis.url, group: 'g', ...lease });
    expect(ambiguous).toBeInstanceOf(InvalidOptionsError);
    expect(ambiguous.message).toContain(`Invalid nestream option "@EventPattern('${sneaky}') extras.ordered": an ordered partitioned pattern may not contain "}:owner"`);

    const pattern = uniqueName('twice');
    @Controller()
    class Ordered {
      @EventPattern(pattern, { partitions: 2, ordered: true })
      handle() {}
    }
    // Dead letters of a partition written to the group's lease key.
    const collision = await failingListen([Ordered], { connection: fx.redis.url, group: 'g', ...lease, deadLetter: { key: s => `${s}:owner:g` } });
    expect(collision).toBeInstanceOf(InvalidOptionsError);
    expect(collision.message).toContain(`the key "${pattern}:{0}:owner:g" would be both the dead-letter stream of ${pattern}:{0} and the lease of ${pattern}:{0} for group "g"`);
    expect(await fx.redis.client().exists(`${pattern}:{0}`, `${pattern}:{0}:owner:g`)).toBe(0); // refused before any key was written
  });
});
