import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, InvalidOptionsError, RedisStreamContext, RedisStreamsServer } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// The conformance promises on a Redis Cluster (3 masters, a replica each): `connection: { type: 'cluster',
// nodes }` on server and client, stream names with a hash tag so that a stream and its dead-letter stream
// share a slot (`{orders}.placed`, `{orders}.placed:dlq`).
const fx = useRedisCluster();

/** A stream name per master: `{<prefix><i>}.events`. */
async function streamsOnEveryMaster(prefix: string): Promise<string[]> {
  const tag = uniqueName(prefix);
  return [...(await fx.cluster.keysOnEveryMaster(i => `{${tag}${i}}.events`)).values()];
}

const fastRetry = { maxAttempts: 3, backoff: { type: 'fixed' as const, delayMs: 200, jitter: 0 } };

describe('events on a Redis Cluster', () => {
  it('handles once and acks the events of streams on every master, read by one server', async () => {
    const streams = await streamsOnEveryMaster('spread');
    const masters = await Promise.all(streams.map(s => fx.cluster.masterOf(s)));
    expect(new Set(masters).size).toBe(3);
    const handled = new Map<string, number[]>(streams.map(s => [s, []]));
    @Controller()
    class Recorder {
      @EventPattern<string>(streams[0])
      a(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
        handled.get(ctx.getStream())!.push(data.n);
      }

      @EventPattern<string>(streams[1])
      b(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
        handled.get(ctx.getStream())!.push(data.n);
      }

      @EventPattern<string>(streams[2])
      c(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
        handled.get(ctx.getStream())!.push(data.n);
      }
    }
    fx.apps.push(await startApp([Recorder], { connection: fx.connection, group: 'g', consumer: 'c1' }));
    const client = fx.client();
    for (const stream of streams) {
      // emit, one by one, and emitMany (one script per stream).
      for (let n = 0; n < 20; n++) await lastValueFrom(client.emit(stream, { n }));
      await client.emitMany(stream, Array.from({ length: 80 }, (_, i) => ({ n: 20 + i })));
    }
    await waitFor(() => [...handled.values()].every(ns => ns.length >= 100), '100 events handled per stream');
    for (const stream of streams) {
      expect([...handled.get(stream)!].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      await waitFor(async () => (await fx.pending(stream)) === 0, `nothing pending on ${stream}`);
      // Each stream lives on its own master, and its entries were written there.
      expect(await fx.cluster.node(await fx.cluster.masterOf(stream)).xlen(stream)).toBe(100);
    }
  });

  it('retries a failing event on its stream, then acks it once it succeeds', async () => {
    const [stream] = await streamsOnEveryMaster('retry');
    const counts: number[] = [];
    @Controller()
    class Flaky {
      @EventPattern<string>(stream)
      handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamContext) {
        counts.push(ctx.getDeliveryCount());
        if (counts.length < 3) throw new Error(`fail #${counts.length}`);
      }
    }
    fx.apps.push(await startApp([Flaky], { connection: fx.connection, group: 'g', retry: { ...fastRetry, maxAttempts: 5 } }));
    await lastValueFrom(fx.client().emit(stream, { id: 1 }));
    await waitFor(() => counts.length === 3, 'three attempts');
    await waitFor(async () => (await fx.pending(stream)) === 0, 'the entry acked');
    expect(counts).toEqual([1, 2, 3]);
    expect(await fx.deadLetters(stream)).toEqual([]);
  });

  it('moves an always-failing event to <stream>:dlq, on the same master, with its reason and error', async () => {
    const streams = await streamsOnEveryMaster('poison');
    @Controller()
    class Poison {
      @EventPattern<string>(streams[0], { retry: fastRetry })
      a() {
        throw new TypeError('price must be a number');
      }

      @EventPattern<string>(streams[1], { retry: { maxAttempts: 1 } })
      b() {
        throw new TypeError('price must be a number');
      }
    }
    fx.apps.push(await startApp([Poison], { connection: fx.connection, group: 'g', consumer: 'c1' }));
    const client = fx.client();
    const ids = [await lastValueFrom(client.emit(streams[0], { price: 'x' })), await lastValueFrom(client.emit(streams[1], { price: 'y' }))];
    for (const [i, stream] of streams.slice(0, 2).entries()) {
      await waitFor(async () => (await fx.deadLetters(stream)).length === 1, `a dead letter of ${stream}`);
      const [letter] = await fx.deadLetters(stream);
      const f = DEAD_LETTER_FIELDS;
      expect(letter).toMatchObject({
        [f.stream]: stream, [f.id]: ids[i], [f.group]: 'g', [f.consumer]: 'c1', [f.attempts]: i === 0 ? '3' : '1',
        [f.reason]: 'max-attempts', [f.errorName]: 'TypeError', [f.errorMessage]: 'price must be a number',
      });
      expect(JSON.parse(letter.data)).toEqual({ price: i === 0 ? 'x' : 'y' });
      expect(await fx.cluster.masterOf(`${stream}:dlq`)).toBe(await fx.cluster.masterOf(stream));
      await waitFor(async () => (await fx.pending(stream)) === 0, `nothing pending on ${stream}`);
    }
  });

  it('answers requests (client.send) on streams on different masters', async () => {
    const [sum, upper] = await streamsOnEveryMaster('rpc');
    @Controller()
    class Rpc {
      @MessagePattern<string>(sum)
      sum(@Payload() numbers: number[]) {
        return numbers.reduce((a, b) => a + b, 0);
      }

      @MessagePattern<string>(upper)
      upper(@Payload() text: string) {
        return text.toUpperCase();
      }
    }
    fx.apps.push(await startApp([Rpc], { connection: fx.connection, group: 'rpc' }));
    const client = fx.client({ requestTimeoutMs: 10_000 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => Promise.all([
        lastValueFrom(client.send<number>(sum, [i, 1, 2])),
        lastValueFrom(client.send<string>(upper, `text ${i}`)),
      ])),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => [i + 3, `TEXT ${i}`]));
    await waitFor(async () => (await fx.pending(sum, 'rpc')) === 0 && (await fx.pending(upper, 'rpc')) === 0, 'requests acked');
  });

  it('refuses at listen() a stream whose dead-letter stream hashes to another slot', async () => {
    const stream = uniqueName('orders.untagged');
    expect(await fx.cluster.slotOf(stream)).not.toBe(await fx.cluster.slotOf(`${stream}:dlq`));
    @Controller()
    class Untagged {
      @EventPattern<string>(stream)
      handle() {}
    }
    @Module({ controllers: [Untagged] })
    class UntaggedModule {}
    const server = new RedisStreamsServer({ connection: fx.connection, group: 'g' });
    const app = await NestFactory.createMicroservice(UntaggedModule, { strategy: server, logger: false });
    try {
      const listening = app.listen();
      await expect(listening).rejects.toThrow(InvalidOptionsError);
      await expect(listening).rejects.toThrow(stream);
    } finally {
      await app.close();
    }
  });
});
