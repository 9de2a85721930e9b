import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisStreamsClient, type RedisStreamContext } from '@nestream/transport';
import { startThrowawayRedis, StreamsTestBed, type RedisTestBed, type ThrowawayRedis } from '@nestream/testing';

let redis: ThrowawayRedis;
let admin: Redis;

beforeAll(async () => {
  redis = await startThrowawayRedis();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

const failuresLeft = new Map<string, number>();

@Controller()
class Accounts {
  readonly credits = new Map<string, number>();

  @EventPattern('accounts.credited')
  credit(@Payload() e: { account: string; amount: number }, @Ctx() ctx: RedisStreamContext) {
    const left = failuresLeft.get(e.account) ?? 0;
    if (left > 0) {
      failuresLeft.set(e.account, left - 1);
      throw new Error(`downstream unavailable (attempt ${ctx.getDeliveryCount()})`);
    }
    Accounts.credits.set(e.account, (Accounts.credits.get(e.account) ?? 0) + e.amount);
  }

  static readonly credits = new Map<string, number>();

  @MessagePattern('accounts.balance')
  balance(@Payload() q: { account: string }) {
    return Accounts.credits.get(q.account) ?? 0;
  }
}

@Module({ controllers: [Accounts] })
class AccountsModule {}

describe('StreamsTestBed.redis()', () => {
  let bed: RedisTestBed;
  let app: INestMicroservice;

  beforeEach(async () => {
    bed = StreamsTestBed.redis({ connection: redis.url });
    const retry = { maxAttempts: 3, backoff: { type: 'fixed' as const, delayMs: 50, jitter: 0 } };
    app = await NestFactory.createMicroservice(AccountsModule, { strategy: bed.server({ group: 'accounts', retry }), logger: false });
    await app.listen();
  });

  afterEach(async () => {
    await app.close();
    await bed.close();
  });

  it('success, retry then success, dead letter and a request, with drain() from the real pending lists', async () => {
    const client = bed.client();
    failuresLeft.set('b', 1);
    failuresLeft.set('c', 100);
    await client.emitMany('accounts.credited', [{ account: 'a', amount: 1 }, { account: 'b', amount: 2 }, { account: 'c', amount: 3 }]);
    await bed.drain();
    expect(Accounts.credits.get('a')).toBe(1);
    expect(Accounts.credits.get('b')).toBe(2);
    expect(await bed.pending('accounts.credited', 'accounts')).toBe(0);
    expect(bed.calls('accounts.credited')).toBe(1 + 2 + 3);
    expect(await bed.deadLetters('accounts.credited')).toMatchObject([
      { reason: 'max-attempts', attempts: 3, data: { account: 'c', amount: 3 }, error: { message: 'downstream unavailable (attempt 3)' } },
    ]);
    await expect(lastValueFrom(client.send('accounts.balance', { account: 'b' }))).resolves.toBe(2);
    expect(bed.emitted('accounts.credited')).toHaveLength(3);
    expect((await bed.entries('accounts.credited')).map(e => e.data)).toEqual([
      { account: 'a', amount: 1 }, { account: 'b', amount: 2 }, { account: 'c', amount: 3 },
    ]);
  });

  it('keeps its events from a service running on the same Redis, and deletes every key it made on close()', async () => {
    // "The developer's service": same group and pattern, no key prefix. It must not see the bed's events.
    const devClient = new RedisStreamsClient({ connection: redis.url });
    await devClient.emitMany('accounts.credited', [{ account: 'dev', amount: 1 }]);
    await lastValueFrom(bed.client().emit('accounts.credited', { account: 'bed', amount: 5 }));
    await bed.drain();
    expect(Accounts.credits.get('bed')).toBe(5);
    expect(Accounts.credits.has('dev')).toBe(false);
    expect((await admin.keys(`${bed.keyPrefix}*`)).length).toBeGreaterThan(0);
    await app.close();
    await bed.close();
    expect(await admin.keys(`${bed.keyPrefix}*`)).toEqual([]);
    expect(await admin.exists('accounts.credited')).toBe(1);
    await devClient.close();
    bed = StreamsTestBed.redis({ connection: redis.url }); // for afterEach
    app = await NestFactory.createMicroservice(AccountsModule, { strategy: bed.server({ group: 'accounts' }), logger: false });
  });
});
