import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { RedisStreamsDeserializer, RedisStreamsSerializer } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

// A user's own encoding: JSON in base64 (standing in for MessagePack), and a schema check on the way in.
const serializer: RedisStreamsSerializer = { serialize: data => Buffer.from(JSON.stringify(data)).toString('base64') };
const deserializer: RedisStreamsDeserializer = {
  deserialize(text) {
    const value = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as { orderId?: unknown };
    if (typeof value.orderId !== 'number') throw new Error('orderId must be a number');
    return value;
  },
};

describe('serializer and deserializer options', () => {
  it('writes data with the client serializer, reads it with the server deserializer, and dead-letters what the deserializer refuses', async () => {
    const pattern = uniqueName('codec');
    const handled: unknown[] = [];
    @Controller()
    class Orders {
      @EventPattern(pattern)
      handle(@Payload() order: unknown) {
        handled.push(order);
      }
    }
    fx.apps.push(await startApp([Orders], { connection: fx.redis.url, group: 'g', deserializer }));
    const client = fx.client({ serializer });
    await lastValueFrom(client.emit(pattern, { orderId: 1 }));
    await client.emitMany(pattern, [{ orderId: 2 }, { orderId: 'three' }]);
    await waitFor(async () => handled.length === 2 && (await fx.deadLetters(pattern)).length === 1, 'two handled, one dead-lettered');
    expect(handled).toEqual([{ orderId: 1 }, { orderId: 2 }]);
    const [raw] = (await fx.redis.client().xrange(pattern, '-', '+', 'COUNT', 1)) as [string, string[]][];
    expect(raw[1][1]).toBe(Buffer.from(JSON.stringify({ orderId: 1 })).toString('base64'));
    const [dead] = await fx.deadLetters(pattern);
    expect(dead['dlq.reason']).toBe('decode');
    expect(dead['dlq.error.message']).toMatch(/deserializer refused "data": orderId must be a number/);
  });

  it('rejects a serializer or deserializer without its method at construction', () => {
    expect(() => fx.client({ serializer: {} as RedisStreamsSerializer })).toThrow(/serializer/);
  });
});
