import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { partitionOf, RedisStreamContext, RedisStreamRecordBuilder } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Partitioned streams on a Redis Cluster (issue 11): the partitions of one pattern (`<pattern>:{i}`) spread over
// the masters, each read by its own reader, and with `ordered: true` the order per key holds while two consumers
// of the group share the partitions (one owner each), a failing entry retried in place included; several groups
// reading one ordered pattern each lease its partitions apart (issue 19).
const fx = useRedisCluster({ replicasPerMaster: 0 });

describe('partitioned streams on a Redis Cluster', () => {
  it('spread over the masters, keep the order per key across two consumers, retries included', async () => {
    const pattern = uniqueName('orders.placed');
    const partitions = 8;
    const masters = new Set(await Promise.all(Array.from({ length: partitions }, (_, i) => fx.cluster.masterOf(`${pattern}:{${i}}`))));
    expect(masters.size).toBe(3);

    const seen = new Map<string, number[]>();
    const handledBy = new Map<string, Set<string>>();
    const failedOnce = new Set<string>();
    const consumerOf = (name: string) => {
      @Controller()
      class Orders {
        @EventPattern<string>(pattern, { partitions, ordered: true })
        handle(@Payload() event: { key: string; seq: number }, @Ctx() ctx: RedisStreamContext) {
          const id = `${event.key}/${event.seq}`;
          // Every 7th event fails once: it is retried before the next of its partition runs.
          if (event.seq % 7 === 3 && !failedOnce.has(id)) {
            failedOnce.add(id);
            throw new Error(`fail ${id} once`);
          }
          seen.set(event.key, [...(seen.get(event.key) ?? []), event.seq]);
          handledBy.set(ctx.getStream(), (handledBy.get(ctx.getStream()) ?? new Set()).add(name));
        }
      }
      return Orders;
    };
    const options = { connection: fx.connection, group: 'g', claim: { intervalMs: 200, minIdleMs: 3000 }, retry: { maxAttempts: 5, backoff: { type: 'fixed' as const, delayMs: 50, jitter: 0 } } };
    fx.apps.push(await startApp([consumerOf('a')], { ...options, consumer: 'a' }));
    fx.apps.push(await startApp([consumerOf('b')], { ...options, consumer: 'b' }));
    // Both consumers own a share (4 of 8 each) before events flow.
    const owners = async () => Promise.all(Array.from({ length: partitions }, (_, i) => fx.redis().get(`${pattern}:{${i}}:owner:g`)));
    await waitFor(async () => {
      const now = await owners();
      return now.filter(o => o === 'a').length === 4 && now.filter(o => o === 'b').length === 4;
    }, 'the partitions shared out 4 and 4');

    const client = fx.client();
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
    const perKey = 15;
    for (let seq = 0; seq < perKey; seq++) {
      await Promise.all(keys.map(key => lastValueFrom(client.emit(pattern, new RedisStreamRecordBuilder({ key, seq }).setPartitionKey(key).build()))));
    }
    await waitFor(() => keys.every(key => (seen.get(key)?.length ?? 0) >= perKey), 'every event handled', 60_000);

    for (const key of keys) {
      // At-least-once may repeat an entry; order never goes backwards.
      const distinct = seen.get(key)!.filter((seq, i, all) => i === 0 || seq !== all[i - 1]);
      expect(distinct).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
    // One owner per partition: no partition's events were handled by both consumers.
    for (const [stream, names] of handledBy) expect({ stream, names: [...names] }).toEqual({ stream, names: [expect.any(String)] });
    expect(new Set([...handledBy.values()].flatMap(names => [...names]))).toEqual(new Set(['a', 'b']));
    for (let i = 0; i < partitions; i++) await waitFor(async () => (await fx.pending(`${pattern}:{${i}}`)) === 0, `nothing pending on partition ${i}`);
  });

  it('fans one ordered pattern out to two groups: each group leases the partitions apart and handles every event in order', async () => {
    const pattern = uniqueName('fanout');
    const partitions = 8;
    const seen = new Map<string, number[]>();
    const consumerOf = (group: string) => {
      @Controller()
      class Orders {
        @EventPattern<string>(pattern, { partitions, ordered: true })
        handle(@Payload() event: { key: string; seq: number }) {
          const id = `${group}/${event.key}`;
          seen.set(id, [...(seen.get(id) ?? []), event.seq]);
        }
      }
      return Orders;
    };
    const groups = ['billing', 'shipping'];
    for (const group of groups) {
      fx.apps.push(await startApp([consumerOf(group)], { connection: fx.connection, group, consumer: `${group}-1`, claim: { intervalMs: 200, minIdleMs: 3000 } }));
    }
    // Each group's lease key is in its partition's slot, next to the partition's stream.
    await waitFor(async () => {
      const held = await Promise.all(groups.flatMap(g => Array.from({ length: partitions }, (_, i) => fx.redis().get(`${pattern}:{${i}}:owner:${g}`))));
      return held.every((owner, n) => owner === `${groups[Math.floor(n / partitions)]}-1`);
    }, 'each group owning all 8 partitions');
    for (let i = 0; i < partitions; i++) {
      const stream = `${pattern}:{${i}}`;
      for (const key of [`${stream}:owner:billing`, `${stream}:owner-generation:shipping`]) expect(await fx.cluster.masterOf(key)).toBe(await fx.cluster.masterOf(stream));
    }
    const client = fx.client();
    const keys = Array.from({ length: 20 }, (_, i) => `customer-${i}`);
    const perKey = 10;
    for (let seq = 0; seq < perKey; seq++) {
      await client.emitMany(pattern, keys.map(key => new RedisStreamRecordBuilder({ key, seq }).setPartitionKey(key).build()));
    }
    await waitFor(() => groups.every(g => keys.every(key => (seen.get(`${g}/${key}`)?.length ?? 0) >= perKey)), 'every event handled by both groups', 60_000);
    for (const g of groups) for (const key of keys) expect({ id: `${g}/${key}`, seqs: seen.get(`${g}/${key}`) }).toEqual({ id: `${g}/${key}`, seqs: Array.from({ length: perKey }, (_, i) => i) });
  });

  it('retries and dead-letters per partition on the slot of each partition (the dead-letter move is one script)', async () => {
    const pattern = uniqueName('poison');
    const runs: Array<{ key: string; partition: number }> = [];
    @Controller()
    class Poison {
      @EventPattern<string>(pattern, { partitions: 8, ordered: true, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } } })
      handle(@Payload() data: { key: string }, @Ctx() ctx: RedisStreamContext) {
        runs.push({ key: data.key, partition: ctx.getPartition()! });
        if (data.key.startsWith('bad')) throw new Error(`${data.key} is bad`);
      }
    }
    fx.apps.push(await startApp([Poison], { connection: fx.connection, group: 'g', claim: { intervalMs: 200, minIdleMs: 3000 } }));
    const keys = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? `bad-${i}` : `good-${i}`));
    await fx.client().emitMany(pattern, keys.map(key => new RedisStreamRecordBuilder({ key }).setPartitionKey(key).build()));
    const bad = keys.filter(k => k.startsWith('bad'));
    await waitFor(async () => {
      const letters = await Promise.all(Array.from({ length: 8 }, (_, i) => fx.deadLetters(`${pattern}:{${i}}`)));
      return letters.flat().length === bad.length;
    }, 'every bad event dead-lettered');
    for (let i = 0; i < 8; i++) {
      const stream = `${pattern}:{${i}}`;
      const letters = await fx.deadLetters(stream);
      expect(letters.map(l => JSON.parse(l.data).key).sort()).toEqual(bad.filter(k => partitionOf(k, 8) === i).sort());
      for (const letter of letters) expect(letter['dlq.stream']).toBe(stream);
      await waitFor(async () => (await fx.pending(stream)) === 0, `nothing pending on partition ${i}`);
    }
    for (const key of bad) expect(runs.filter(r => r.key === key).map(r => r.partition)).toEqual([partitionOf(key, 8), partitionOf(key, 8)]);
  });
});
