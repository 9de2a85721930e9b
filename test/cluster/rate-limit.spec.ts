import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// A rate limit on a Redis Cluster: one key (its own slot), shared by the partitions of a pattern, which spread
// over every master, and by the group's consumers.
const fx = useRedisCluster();

describe('rate limits on a Redis Cluster', () => {
  it('one limit across the partitions of a pattern on every master and two consumers', async () => {
    const pattern = uniqueName('limited');
    const limit = { max: 10, perMs: 500 };
    const at = new Map<number, number[]>();
    const partitionsSeen = new Set<number>();
    const start = async (consumer: string) => {
      @Controller()
      class Limited {
        @EventPattern<string>(pattern, { partitions: 6, rateLimit: limit })
        handle(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
          at.set(e.n, [...(at.get(e.n) ?? []), Date.now()]);
          partitionsSeen.add(ctx.getPartition()!);
        }
      }
      fx.apps.push(await startApp([Limited], { connection: fx.connection, group: 'g', consumer, startId: '0' }));
    };
    await start('c1');
    await start('c2');
    await fx.client().emitMany(pattern, Array.from({ length: 40 }, (_, n) => ({ n })));
    await waitFor(() => at.size === 40, 'all 40 handled');

    expect(partitionsSeen.size).toBeGreaterThan(1);
    expect([...at.values()].every(times => times.length === 1)).toBe(true);
    // One bucket for all: 30 runs after the burst of 10, one per 50 ms. A bucket per partition or per consumer
    // would let them through several times faster.
    const times = [...at.values()].flat().sort((a, b) => a - b);
    expect(times[39] - times[0]).toBeGreaterThanOrEqual(1450);
  });
});
