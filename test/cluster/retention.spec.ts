import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext, RedisStreamsServer, type RetentionEvent } from '@nestream/transport';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Safe retention on a Redis Cluster: the trim script runs in each stream's slot, on its master.
const fx = useRedisCluster();

describe('safe retention on a Redis Cluster', () => {
  it('keeps what a stopped group has not read on every master, then trims once it caught up: 0 lost', async () => {
    const tag = uniqueName('kept');
    const streams = [...(await fx.cluster.keysOnEveryMaster(i => `{${tag}${i}}.events`)).values()];
    const redis = fx.redis();
    for (const stream of streams) await redis.xgroup('CREATE', stream, 'shipping', '0', 'MKSTREAM');

    const start = async (group: string) => {
      const seen = new Map<string, Set<number>>(streams.map(s => [s, new Set()]));
      const events: RetentionEvent[] = [];
      @Controller()
      class Service {
        @EventPattern<string>(streams[0])
        a(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
          seen.get(ctx.getStream())!.add(e.n);
        }

        @EventPattern<string>(streams[1])
        b(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
          seen.get(ctx.getStream())!.add(e.n);
        }

        @EventPattern<string>(streams[2])
        c(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
          seen.get(ctx.getStream())!.add(e.n);
        }
      }
      const server = new RedisStreamsServer({
        connection: fx.connection, group, consumer: `${group}-1`, startId: '0', claim: { intervalMs: 100 }, retention: { maxLen: 100, intervalMs: 100 },
      });
      server.on('retention', e => events.push(e));
      fx.apps.push(await startApp([Service], server));
      return { seen, events, all: () => [...seen.values()].every(s => s.size === 1000) };
    };

    const billing = await start('billing');
    const client = fx.client();
    for (const stream of streams) await client.emitMany(stream, Array.from({ length: 1000 }, (_, n) => ({ n })));
    await waitFor(billing.all, 'billing to handle 1000 per stream');
    for (const stream of streams) {
      await waitFor(async () => (await fx.pending(stream, 'billing')) === 0, `billing to ack ${stream}`);
      const acked = billing.events.length;
      await waitFor(() => billing.events.slice(acked).some(e => e.stream === stream && e.heldBackBy === 'shipping' && e.length === 1000), `a run on ${stream} held back by shipping`);
    }

    const shipping = await start('shipping');
    await waitFor(shipping.all, 'shipping to handle 1000 per stream: none trimmed before it read them');
    await waitFor(
      () => streams.every(s => [...billing.events, ...shipping.events].some(e => e.stream === s && e.length <= 200)),
      'every stream trimmed to about maxLen once both groups read it',
    );
  });
});
