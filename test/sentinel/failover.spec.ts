import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DurabilityError, RedisStreamsClient } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { startProducer } from '../harness/producer-loop.js';
import { startRedisSentinel, type TestRedisSentinel } from '../harness/redis-sentinel.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// A producer and a consumer connected through Sentinel (`connection: { sentinels, name }`, ioredis's own
// options: no cluster mode), while the master is SIGKILLed and the sentinels promote the replica.
// One Sentinel setup per test: each test kills its master.
let sentinel: TestRedisSentinel;
const apps: TestApp[] = [];
const clients: RedisStreamsClient[] = [];
beforeEach(async () => {
  sentinel = await startRedisSentinel();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map(a => a.close()));
  await Promise.all(clients.splice(0).map(c => c.close()));
  await sentinel?.stop();
});

/** A consumer app whose handler counts each n it handles. */
async function startConsumer(pattern: string, handled: Map<number, number>): Promise<TestApp> {
  @Controller()
  class Recorder {
    @EventPattern(pattern)
    handle(@Payload() data: { n: number }) {
      handled.set(data.n, (handled.get(data.n) ?? 0) + 1);
    }
  }
  const app = await startApp([Recorder], {
    connection: sentinel.connection, group: 'g', consumer: 'c1', claim: { minIdleMs: 2000, intervalMs: 250 },
  });
  apps.push(app);
  return app;
}

async function pending(pattern: string): Promise<number> {
  return ((await sentinel.client().xpending(pattern, 'g')) as [number])[0];
}

describe('Sentinel failover', () => {
  it('producer and consumer carry on after the master is SIGKILLed and the replica promoted', async () => {
    const pattern = uniqueName('sentinel.orders');
    const handled = new Map<number, number>();
    await startConsumer(pattern, handled);
    const client = new RedisStreamsClient({ connection: sentinel.connection });
    clients.push(client);
    const producer = startProducer(client, pattern);
    await producer.resolveMore(200, '200 emits before the failover');
    await waitFor(() => handled.size >= 100, '100 handled before the failover');

    const old = await sentinel.masterPort();
    const promoted = await sentinel.killMaster();
    expect(promoted).not.toBe(old);
    const resolvedBefore = new Set(producer.resolved);
    await producer.resolveMore(200, '200 emits after the promotion', 60_000);
    await producer.stop();

    // Everything emitted after the promotion is handled, and acked on the new master.
    const after = [...producer.resolved].filter(n => !resolvedBefore.has(n));
    await waitFor(() => after.every(n => handled.has(n)), 'every emit resolved after the promotion to be handled', 30_000);
    await waitFor(async () => (await pending(pattern)) === 0, 'nothing pending on the new master', 30_000);
    // An emit lost with the master is rejected with an error that says so.
    expect([...producer.rejections.keys()].filter(name => name !== 'RedisUnavailableError')).toEqual([]);
    // Without durability, an emit the old master acknowledged but had not replicated yet is lost: reported, not
    // asserted (replication is asynchronous); the durable test below asserts none is.
    const lost = [...resolvedBefore].filter(n => !handled.has(n));
    console.info(`Sentinel failover without durability: ${producer.summary()}; ${lost.length} emits acknowledged before the kill never handled`);
  });

  it('with durable emits no acknowledged event is lost; while no replica exists a durable emit rejects with DurabilityError', async () => {
    const pattern = uniqueName('sentinel.durable');
    const handled = new Map<number, number>();
    await startConsumer(pattern, handled);
    const client = new RedisStreamsClient({ connection: sentinel.connection, durability: { replicas: 1, timeoutMs: 500 } });
    clients.push(client);
    const producer = startProducer(client, pattern);
    await producer.resolveMore(200, '200 durable emits before the failover');

    const promoted = await sentinel.killMaster();
    // The promoted replica has no replica of its own: WAIT 1 cannot be satisfied, and the emit says so.
    const lonely = lastValueFrom(client.emit(pattern, { n: -1 }));
    await expect(lonely).rejects.toThrow(DurabilityError);
    await expect(lonely).rejects.toThrow(/only 0 of 1 replica confirmed it within 500 ms/);
    // The old master comes back, and the sentinels make it the new master's replica: durable emits go through again.
    await sentinel.restartOldMaster();
    await producer.resolveMore(200, '200 durable emits after the old master rejoined as a replica', 60_000);
    await producer.stop();

    await waitFor(() => [...producer.resolved].every(n => handled.has(n)), 'every resolved emit to be handled', 30_000);
    await waitFor(async () => (await pending(pattern)) === 0, `nothing pending on the new master (${promoted})`, 30_000);
    expect([...producer.rejections.keys()].filter(name => !['RedisUnavailableError', 'DurabilityError'].includes(name))).toEqual([]);
    console.info(`Sentinel failover with durability: ${producer.summary()}; ${[...handled.values()].filter(c => c > 1).length} handled more than once`);
  });
});
