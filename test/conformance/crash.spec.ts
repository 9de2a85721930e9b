import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext, RedisStreamsClient } from '@nestream/transport';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { sigkill, startChild } from '../harness/child.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// The child consumer uses the built package: `npm test` builds first.
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const apps: TestApp[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(sigkill));
  await Promise.all(apps.splice(0).map(a => a.close()));
});

async function emitN(pattern: string, n: number): Promise<void> {
  const client = new RedisStreamsClient({ connection: redis.url });
  await client.emitMany(pattern, Array.from({ length: n }, (_, i) => ({ n: i })));
  await client.close();
}

async function pendingOf(stream: string, consumer: string): Promise<number> {
  const rows = (await redis.client().xpending(stream, 'g', '-', '+', 10_000, consumer)) as unknown[];
  return rows.length;
}

function recorder(pattern: string, handled: Map<number, number[]>) {
  @Controller()
  class Recorder {
    @EventPattern(pattern)
    handle(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
      handled.set(data.n, [...(handled.get(data.n) ?? []), ctx.getDeliveryCount()]);
    }
  }
  return Recorder;
}

describe('crash recovery', () => {
  it('lets another consumer take over, after claim.minIdleMs, what a SIGKILLed consumer left pending', async () => {
    const pattern = uniqueName('crash');
    const victim = await startChild('consumer.mjs', [redis.url, pattern, 'victim', '200']);
    children.push(victim);
    await emitN(pattern, 500);
    await waitFor(async () => (await pendingOf(pattern, 'victim')) >= 50, 'the victim to hold entries');
    await sigkill(victim);
    const killedAt = Date.now();
    const leftPending = await pendingOf(pattern, 'victim');
    expect(leftPending).toBeGreaterThan(0);
    const doneByVictim = new Set((await redis.client().smembers(`handled:${pattern}`)).map(Number));

    const handled = new Map<number, number[]>();
    const firstClaimAt: number[] = [];
    const rescuer = await startApp([recorder(pattern, handled)], {
      connection: redis.url, group: 'g', consumer: 'rescuer', claim: { minIdleMs: 1500, intervalMs: 250 },
    });
    apps.push(rescuer);
    rescuer.server.on('claimed', () => firstClaimAt.push(Date.now()));
    await waitFor(() => new Set([...doneByVictim, ...handled.keys()]).size === 500, 'all 500 handled', 30_000);
    await waitFor(async () => ((await redis.client().xpending(pattern, 'g')) as [number])[0] === 0, 'nothing pending');
    // Claimed entries (delivered before) show a delivery count of 2; none was claimed before minIdleMs.
    const claimed = [...handled.entries()].filter(([, counts]) => counts[0] === 2);
    expect(claimed.length).toBe(leftPending);
    expect(firstClaimAt[0] - killedAt).toBeGreaterThanOrEqual(1500 - 100);
  });

  it('lets a consumer restarted under the same name take back its own pending entries at once', async () => {
    const pattern = uniqueName('restart');
    const before = await startChild('consumer.mjs', [redis.url, pattern, 'phoenix', '200']);
    children.push(before);
    await emitN(pattern, 200);
    await waitFor(async () => (await pendingOf(pattern, 'phoenix')) >= 50, 'the consumer to hold entries');
    await sigkill(before);
    const leftPending = await pendingOf(pattern, 'phoenix');
    const doneBefore = new Set((await redis.client().smembers(`handled:${pattern}`)).map(Number));

    const handled = new Map<number, number[]>();
    const restartedAt = Date.now();
    // minIdleMs of a minute: only the own-pending recovery at start can explain a quick handling.
    apps.push(await startApp([recorder(pattern, handled)], {
      connection: redis.url, group: 'g', consumer: 'phoenix', claim: { minIdleMs: 60_000 },
    }));
    await waitFor(() => new Set([...doneBefore, ...handled.keys()]).size === 200, 'all 200 handled', 10_000);
    expect(Date.now() - restartedAt).toBeLessThan(10_000);
    expect([...handled.values()].filter(c => c[0] === 2)).toHaveLength(leftPending);
    await waitFor(async () => ((await redis.client().xpending(pattern, 'g')) as [number])[0] === 0, 'nothing pending');
  });
});
