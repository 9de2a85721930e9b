import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { partitionOf, RedisStreamContext, RedisStreamRecordBuilder } from '@nestream/transport';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Partitioned streams on a Redis Cluster: the partitions spread over the masters (their {i} hash tags), and
// ordered partitions work there (leases, take-over, dead letters per partition: one slot per command).
const fx = useRedisCluster();

const keyed = (data: unknown, key: string) => new RedisStreamRecordBuilder(data).setPartitionKey(key).build();

describe('partitioned streams on a Redis Cluster', () => {
  it('spreads the partitions over the masters, and keeps the order per key with 2 consumers sharing 8 ordered partitions', async () => {
    const pattern = uniqueName('orders');
    const runs: Array<{ key: string; seq: number; consumer: string; partition: number }> = [];
    const consumer = (name: string) => {
      @Controller()
      class Ordered {
        @EventPattern<string>(pattern, { partitions: 8, ordered: true, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } } })
        handle(@Payload() data: { key: string; seq: number; fail?: boolean }, @Ctx() ctx: RedisStreamContext) {
          runs.push({ key: data.key, seq: data.seq, consumer: name, partition: ctx.getPartition()! });
          if (data.fail) throw new Error(`${data.key}#${data.seq} fails`);
        }
      }
      return Ordered;
    };
    for (const name of ['c1', 'c2']) {
      fx.apps.push(await startApp([consumer(name)], {
        connection: fx.connection, group: 'g', consumer: name, blockMs: 200, claim: { minIdleMs: 2000, intervalMs: 100 },
      }));
    }
    const redis = fx.redis();
    const owners = async () => Promise.all(Array.from({ length: 8 }, (_, i) => redis.get(`${pattern}:{${i}}:owner`)));
    await waitFor(async () => {
      const o = await owners();
      return o.filter(c => c === 'c1').length === 4 && o.filter(c => c === 'c2').length === 4;
    }, '4 partitions each');

    const masters = new Set(
      await Promise.all(Array.from({ length: 8 }, async (_, i) => {
        const slot = (await redis.cluster('KEYSLOT', `${pattern}:{${i}}`)) as number;
        const ranges = (await redis.cluster('SLOTS')) as Array<[number, number, [string, number]]>;
        const [, , [host, port]] = ranges.find(([from, to]) => slot >= from && slot <= to)!;
        return `${host}:${port}`;
      })),
    );
    expect(masters.size).toBeGreaterThan(1);

    const keys = Array.from({ length: 16 }, (_, i) => `key-${i}`);
    const client = fx.client();
    for (let seq = 0; seq < 10; seq++) {
      // Every key's 5th event always fails: dead-lettered after its retry, to its partition's dead-letter stream.
      await client.emitMany(pattern, keys.map(key => keyed({ key, seq, fail: seq === 4 }, key)));
    }
    await waitFor(() => new Set(runs.map(r => `${r.key}#${r.seq}`)).size === 160, 'every event run');
    for (const key of keys) {
      const seqs = runs.filter(r => r.key === key).map(r => r.seq);
      expect(seqs).toEqual([0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9]);
      expect(new Set(runs.filter(r => r.key === key).map(r => r.partition))).toEqual(new Set([partitionOf(key, 8)]));
    }
    for (let i = 0; i < 8; i++) {
      const stream = `${pattern}:{${i}}`;
      await waitFor(async () => (await fx.pending(stream)) === 0, `nothing pending in ${stream}`);
      const letters = await fx.deadLetters(stream);
      expect(letters.map(l => JSON.parse(l.data).key).sort()).toEqual(keys.filter(k => partitionOf(k, 8) === i).sort());
    }
  });
});
