import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamRecordBuilder, type RedisStreamsClient } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Idempotency keys and delayed emits while a master is SIGKILLed and its replica promoted, with durability on:
// a keyed emit retried after any rejection adds its entry once; a delayed emit that resolved enters its stream.
const fx = useRedisCluster();
const DURABLE = { replicas: 1, timeoutMs: 1000 };

async function startRecorder(pattern: string, handled: Map<number, number>) {
  @Controller()
  class Recorder {
    @EventPattern<string>(pattern)
    handle(@Payload() data: { n: number }) {
      handled.set(data.n, (handled.get(data.n) ?? 0) + 1);
    }
  }
  fx.apps.push(await startApp([Recorder], { connection: fx.connection, group: 'g', consumer: 'c1', claim: { minIdleMs: 2000, intervalMs: 250 }, scheduler: { pollMs: 200 } }));
}

/** Emits each n until it resolves (a rejected emit is tried again after a short pause); the rejections seen. */
async function emitUntilResolved(client: RedisStreamsClient, pattern: string, record: (n: number) => unknown, from: number, to: number, rejections: string[]) {
  for (let n = from; n < to; n++) {
    for (;;) {
      try {
        await lastValueFrom(client.emit(pattern, record(n)));
        break;
      } catch (err) {
        rejections.push((err as Error).name);
        await new Promise(r => setTimeout(r, 100)); // a producer's own retry pause, not test synchronisation
      }
    }
  }
}

describe('producing across a master SIGKILL, durably', () => {
  it('keyed emits retried after every rejection add exactly one entry per key', async () => {
    const pattern = `{${uniqueName('keyed')}}.payments`;
    const handled = new Map<number, number>();
    await startRecorder(pattern, handled);
    const client = fx.client({ durability: DURABLE });
    const keyed = (n: number) => new RedisStreamRecordBuilder({ n }).setIdempotencyKey(`payment-${n}`).build();
    const rejections: string[] = [];
    await emitUntilResolved(client, pattern, keyed, 0, 100, rejections);
    const old = await fx.cluster.masterOf(pattern);
    await fx.cluster.killMasterOf(pattern);
    // The promoted master has no replica until the old one is back: durable emits are refused meanwhile.
    const restarted = fx.cluster.restartNode(old);
    await emitUntilResolved(client, pattern, keyed, 100, 200, rejections);
    await restarted;
    // Every key once more: all repeats, nothing added.
    await emitUntilResolved(client, pattern, keyed, 0, 200, rejections);

    await waitFor(() => handled.size === 200, 'all 200 handled', 60_000);
    const entries = (await fx.redis().xrange(pattern, '-', '+')) as Array<[string, string[]]>;
    const ns = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('data') + 1]).n as number);
    expect(ns.length).toBe(200);
    expect(new Set(ns).size).toBe(200);
    expect(rejections.every(name => name === 'RedisUnavailableError' || name === 'DurabilityError')).toBe(true);
    console.info(`keyed durable emits across a master SIGKILL: 200 keys, ${rejections.length} rejections retried, 200 entries`);
  });

  it('delayed emits that resolved enter their stream, through the failover', async () => {
    const pattern = `{${uniqueName('later')}}.reminders`;
    const handled = new Map<number, number>();
    await startRecorder(pattern, handled);
    const client = fx.client({ durability: DURABLE });
    const delayed = (n: number) => new RedisStreamRecordBuilder({ n }).setDelay(1500).build();
    const rejections: string[] = [];
    await emitUntilResolved(client, pattern, delayed, 0, 100, rejections);
    const old = await fx.cluster.masterOf(pattern);
    await fx.cluster.killMasterOf(pattern);
    const restarted = fx.cluster.restartNode(old);
    await emitUntilResolved(client, pattern, delayed, 100, 200, rejections);
    await restarted;

    // A schedule that resolved was on a replica (WAIT): none is lost. A rejected one may have been stored anyway
    // and is then delivered twice (retried schedules have no key): at-least-once, as for any emit retried.
    await waitFor(() => handled.size === 200, 'all 200 delayed events handled', 60_000);
    expect(await fx.redis().zcard(`${pattern}:scheduled`)).toBe(0);
    console.info(`delayed durable emits across a master SIGKILL: ${rejections.length} rejections retried, ${[...handled.values()].filter(c => c > 1).length} handled twice`);
  });
});
