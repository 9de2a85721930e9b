import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import { sigkill, startChild } from '../harness/child.js';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// A consumer process SIGKILLed on a Redis Cluster: its pending entries are claimed by another consumer.
// The child consumer uses the built package: `npm test` builds first.
const fx = useRedisCluster();

describe('crash recovery on a Redis Cluster', () => {
  it('lets another consumer claim, after claim.minIdleMs, what a SIGKILLed consumer left pending', async () => {
    const pattern = `{${uniqueName('crash')}}.events`;
    const victim = await startChild('consumer.mjs', [JSON.stringify(fx.connection), pattern, 'victim', '200']);
    fx.children.push(victim);
    await fx.client().emitMany(pattern, Array.from({ length: 300 }, (_, n) => ({ n })));
    const pendingOf = async (consumer: string) =>
      ((await fx.redis().xpending(pattern, 'g', '-', '+', 10_000, consumer)) as unknown[]).length;
    await waitFor(async () => (await pendingOf('victim')) >= 50, 'the victim to hold entries');
    await sigkill(victim);
    const leftPending = await pendingOf('victim');
    expect(leftPending).toBeGreaterThan(0);
    const doneByVictim = new Set((await fx.redis().smembers(`handled:${pattern}`)).map(Number));

    const handled = new Map<number, number[]>();
    @Controller()
    class Rescuer {
      @EventPattern<string>(pattern)
      handle(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
        handled.set(data.n, [...(handled.get(data.n) ?? []), ctx.getDeliveryCount()]);
      }
    }
    const rescuer = await startApp([Rescuer], {
      connection: fx.connection, group: 'g', consumer: 'rescuer', claim: { minIdleMs: 1500, intervalMs: 250 },
    });
    fx.apps.push(rescuer);
    let claimed = 0;
    rescuer.server.on('claimed', () => claimed++);
    await waitFor(() => new Set([...doneByVictim, ...handled.keys()]).size === 300, 'all 300 handled', 30_000);
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'nothing pending');
    // What the victim held was claimed (a second delivery), not read again as new.
    expect([...handled.values()].filter(counts => counts[0] === 2)).toHaveLength(leftPending);
    expect(claimed).toBeGreaterThan(0);
  });
});
