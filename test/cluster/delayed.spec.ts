import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext, RedisStreamRecordBuilder } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Delayed emits on a Redis Cluster: the schedule lives in the stream's slot (its hash tag, or its whole name as
// the tag), so scheduling, moving and cancelling are one-node scripts; durable schedules wait for the replica.
const fx = useRedisCluster();

describe('delayed emits on a Redis Cluster', () => {
  it('enter streams on every master when due, durably scheduled, cancel works there too', async () => {
    const tag = uniqueName('later');
    const streams = [...(await fx.cluster.keysOnEveryMaster(i => `{${tag}${i}}.reminders`)).values()];
    const seen = new Map<string, number[]>(streams.map(s => [s, []]));
    @Controller()
    class Recorder {
      @EventPattern<string>(streams[0])
      a(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
        seen.get(ctx.getStream())!.push(e.n);
      }

      @EventPattern<string>(streams[1])
      b(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
        seen.get(ctx.getStream())!.push(e.n);
      }

      @EventPattern<string>(streams[2])
      c(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
        seen.get(ctx.getStream())!.push(e.n);
      }
    }
    fx.apps.push(await startApp([Recorder], { connection: fx.connection, group: 'g', consumer: 'c1', scheduler: { pollMs: 100 } }));
    const client = fx.client({ durability: { replicas: 1, timeoutMs: 5000 } });
    for (const stream of streams) {
      const cancelled = await lastValueFrom(client.emit<string>(stream, new RedisStreamRecordBuilder({ n: 0 }).setDelay(300).build()));
      for (let n = 1; n <= 5; n++) await lastValueFrom(client.emit(stream, new RedisStreamRecordBuilder({ n }).setDelay(300).build()));
      expect(await client.cancelScheduled(stream, cancelled)).toBe(true);
    }
    await waitFor(() => streams.every(s => seen.get(s)!.length === 5), '5 delayed events per stream');
    for (const stream of streams) expect(seen.get(stream)!.sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
