import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext, RedisStreamsClient, RedisStreamRecordBuilder } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('event delivery', () => {
  const apps: TestApp[] = [];
  const clients: RedisStreamsClient[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map(a => a.close()));
    await Promise.all(clients.splice(0).map(c => c.close()));
  });

  it('delivers an emitted event to its @EventPattern handler with the context, and acks it', async () => {
    const pattern = uniqueName('orders.created');
    const seen: Array<{ data: unknown; ctx: Record<string, unknown> }> = [];
    @Controller()
    class Handler {
      @EventPattern(pattern)
      handle(@Payload() data: unknown, @Ctx() ctx: RedisStreamContext) {
        seen.push({
          data,
          ctx: {
            stream: ctx.getStream(), id: ctx.getMessageId(), group: ctx.getGroup(), consumer: ctx.getConsumer(),
            count: ctx.getDeliveryCount(), headers: ctx.getHeaders(), pattern: ctx.getPattern(),
          },
        });
      }
    }
    apps.push(await startApp([Handler], { connection: redis.url, group: 'g1', consumer: 'c1' }));
    const client = new RedisStreamsClient({ connection: redis.url });
    clients.push(client);
    const id = await lastValueFrom(
      client.emit(pattern, new RedisStreamRecordBuilder({ id: 1 }).setHeaders({ tenant: 'acme' }).build()),
    );
    expect(id).toMatch(/^\d+-\d+$/);
    await waitFor(() => seen.length === 1, 'the event to be handled');
    expect(seen[0]).toEqual({
      data: { id: 1 },
      ctx: { stream: pattern, id, group: 'g1', consumer: 'c1', count: 1, headers: { tenant: 'acme' }, pattern },
    });
    const r = redis.client();
    await waitFor(async () => (await r.xpending(pattern, 'g1'))[0] === 0, 'the entry to be acked');
  });

  it('writes the documented wire format: data and cid, h only with headers, the emit time in the id', async () => {
    const pattern = uniqueName('wire');
    const client = new RedisStreamsClient({ connection: redis.url });
    clients.push(client);
    const before = Date.now();
    const plain = await lastValueFrom(client.emit(pattern, { id: 1 }));
    const [bulk, withHeaders] = await client.emitMany(pattern, [
      { id: 2 },
      new RedisStreamRecordBuilder({ id: 3 }).setHeaders({ tenant: 'acme' }).build(),
    ]);
    const entries = new Map((await redis.client().xrange(pattern, '-', '+')) as Array<[string, string[]]>);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const [id, data] of [[plain, '{"id":1}'], [bulk, '{"id":2}']]) {
      const fields = entries.get(id)!;
      expect(fields).toEqual(['data', data, 'cid', expect.stringMatching(uuid)]);
      const ms = Number(id.split('-')[0]);
      expect(ms).toBeGreaterThanOrEqual(before - 5);
      expect(ms).toBeLessThanOrEqual(Date.now() + 5);
    }
    expect(entries.get(withHeaders)).toEqual(['data', '{"id":3}', 'cid', expect.stringMatching(uuid), 'h', '{"tenant":"acme"}']);
  });

  it('handles an entry written by a plain XADD with only a data field', async () => {
    const pattern = uniqueName('raw');
    const seen: unknown[] = [];
    @Controller()
    class Handler {
      @EventPattern(pattern)
      handle(@Payload() data: unknown) {
        seen.push(data);
      }
    }
    apps.push(await startApp([Handler], { connection: redis.url, group: 'g' }));
    await redis.client().call('XADD', pattern, '*', 'data', '{"id":1}');
    await waitFor(() => seen.length === 1, 'the raw entry to be handled');
    expect(seen).toEqual([{ id: 1 }]);
  });
});
