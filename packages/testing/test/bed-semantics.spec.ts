import 'reflect-metadata';
import { BadRequestException, Controller, Module, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { jest } from '@jest/globals';
import { lastValueFrom } from 'rxjs';
import { partitionOf, RedisStreamBatchContext, RedisStreamContext, RedisStreamRecordBuilder, UnrecoverableEventError } from '@nestream/transport';
import { StreamsTestBed, type MemoryStreamsServerOptions } from '@nestream/testing';

let bed: StreamsTestBed;
let app: INestMicroservice | undefined;

async function start(controllers: Type<unknown>[], options: MemoryStreamsServerOptions): Promise<void> {
  @Module({ controllers })
  class M {}
  app = await NestFactory.createMicroservice(M, { strategy: bed.server(options), logger: false });
  await app.listen();
}

beforeEach(() => {
  bed = new StreamsTestBed();
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await bed.close();
  jest.useRealTimers();
});

const quick = { maxAttempts: 3, backoff: { type: 'fixed' as const, delayMs: 1000, jitter: 0 } };

it('works under Jest fake timers: drain() neither needs nor moves them', async () => {
  jest.useFakeTimers();
  let calls = 0;
  @Controller()
  class Flaky {
    @EventPattern('x')
    handle() {
      if (++calls < 3) throw new Error('not yet');
    }
  }
  await start([Flaky], { group: 'g', retry: quick });
  await lastValueFrom(bed.client().emit('x', {}));
  await bed.drain();
  expect(calls).toBe(3);
  expect(jest.getTimerCount()).toBe(0);
});

it('a handler over handlerTimeoutMs fails the attempt when the virtual clock passes it', async () => {
  let calls = 0;
  @Controller()
  class Slow {
    @EventPattern('slow')
    handle() {
      calls++;
      if (calls === 1) return new Promise(() => undefined); // never settles
    }
  }
  await start([Slow], { group: 'g', retry: quick, handlerTimeoutMs: 5000 });
  await lastValueFrom(bed.client().emit('slow', {}));
  await bed.advance(4999);
  expect(bed.pending('slow', 'g')).toBe(1);
  await bed.advance(1);
  await bed.drain();
  expect(calls).toBe(2);
  expect(bed.pending('slow', 'g')).toBe(0);
});

it('dead-letters an undecodable entry before any handler call (reason decode)', async () => {
  @Controller()
  class Any {
    @EventPattern('raw')
    handle() {}
  }
  await start([Any], { group: 'g' });
  const id = bed.addEntry('raw', { data: '{not json' });
  await bed.drain();
  expect(bed.calls('raw')).toBe(0);
  expect(bed.deadLetters('raw')).toMatchObject([{ id, reason: 'decode', attempts: 1, error: { name: 'DecodeError' }, data: '{not json' }]);
});

it('dead-letters a validation failure (BadRequestException) at once, reason validation', async () => {
  @Controller()
  class Strict {
    @EventPattern('strict')
    handle() {
      throw new BadRequestException('amount must be positive');
    }
  }
  await start([Strict], { group: 'g', retry: quick });
  await lastValueFrom(bed.client().emit('strict', { amount: -1 }));
  await bed.drain();
  expect(bed.deadLetters('strict')).toMatchObject([{ reason: 'validation', attempts: 1, error: { name: 'BadRequestException' } }]);
});

it('manual ack: settles as the handler says', async () => {
  @Controller()
  class Manual {
    @EventPattern('manual')
    handle(@Payload() e: { kind: string }, @Ctx() ctx: RedisStreamContext) {
      if (e.kind === 'ack') ctx.ack();
      else if (e.kind === 'retry' && ctx.getDeliveryCount() === 1) ctx.retry({ delayMs: 60_000 });
      else if (e.kind === 'retry') ctx.ack();
      else if (e.kind === 'dead') ctx.deadLetter('bad customer');
    }
  }
  await start([Manual], { group: 'g', ack: 'manual', retry: quick });
  const client = bed.client();
  for (const kind of ['ack', 'retry', 'dead', 'never']) await lastValueFrom(client.emit('manual', { kind }));
  const before = bed.now();
  await bed.drain();
  expect(bed.now() - before).toBeGreaterThanOrEqual(60_000);
  expect(bed.deadLetters('manual').map(d => [d.data, d.reason, d.error.message])).toEqual([
    [{ kind: 'dead' }, 'manual', 'bad customer'],
    [{ kind: 'never' }, 'max-attempts', 'handler returned without settling the entry (ack: manual)'],
  ]);
  expect(bed.pending('manual', 'g')).toBe(0);
});

it('ordered: one at a time in stream order, a failing entry retried before the next', async () => {
  const seen: string[] = [];
  @Controller()
  class InOrder {
    @EventPattern('ordered', { ordered: true })
    handle(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
      seen.push(`${e.n}#${ctx.getDeliveryCount()}`);
      if (e.n === 2 && ctx.getDeliveryCount() < 3) throw new Error('later');
    }
  }
  await start([InOrder], { group: 'g', retry: quick });
  await bed.client().emitMany('ordered', [{ n: 1 }, { n: 2 }, { n: 3 }]);
  await bed.drain();
  expect(seen).toEqual(['1#1', '2#1', '2#2', '2#3', '3#1']);
});

it('batch: one call for the entries read together; ctx.fail() retries one entry on its own', async () => {
  const batches: number[][] = [];
  @Controller()
  class Batch {
    @EventPattern('batch', { batch: true })
    handle(@Payload() items: Array<{ n: number }>, @Ctx() ctx: RedisStreamBatchContext) {
      batches.push(items.map(i => i.n));
      items.forEach((item, i) => {
        if (item.n === 2 && ctx.getEntries()[i].deliveryCount === 1) ctx.fail(i, new Error('again'));
      });
    }
  }
  await start([Batch], { group: 'g', retry: quick });
  await bed.client().emitMany('batch', [{ n: 1 }, { n: 2 }, { n: 3 }]);
  await bed.drain();
  expect(batches).toEqual([[1, 2, 3], [2]]);
  expect(bed.pending('batch', 'g')).toBe(0);
});

it('partitions: a key always picks the partition partitionOf() gives; a key for an unpartitioned pattern fails', async () => {
  const seen: Array<[string, number | undefined]> = [];
  @Controller()
  class Parts {
    @EventPattern('orders', { partitions: 4, ordered: true })
    handle(@Payload() e: { customer: string }, @Ctx() ctx: RedisStreamContext) {
      seen.push([e.customer, ctx.getPartition()]);
    }
  }
  await start([Parts], { group: 'g' });
  const client = bed.client();
  for (const customer of ['a', 'b', 'a', 'c', 'a']) {
    await lastValueFrom(client.emit('orders', new RedisStreamRecordBuilder({ customer }).setPartitionKey(customer).build()));
  }
  await bed.drain();
  const partitionsOf = (c: string) => new Set(seen.filter(([x]) => x === c).map(([, p]) => p));
  for (const c of ['a', 'b', 'c']) expect([...partitionsOf(c)]).toEqual([partitionOf(c, 4)]);
  expect(bed.entries('orders')).toHaveLength(5);
  await expect(lastValueFrom(client.emit('other', new RedisStreamRecordBuilder({}).setPartitionKey('k').build()))).rejects.toMatchObject({ name: 'PartitionError' });
});

it('a request whose handler fails is answered with Nest\'s error and dead-lettered (no retry by default)', async () => {
  const { MessagePattern } = await import('@nestjs/microservices');
  @Controller()
  class Failing {
    @MessagePattern('quote')
    quote() {
      throw new Error('no price');
    }
  }
  await start([Failing], { group: 'g' });
  await expect(lastValueFrom(bed.client().send('quote', {}))).rejects.toMatchObject({ message: 'Internal server error' });
  await bed.drain(); // the caller is answered first, then the entry moved (as the real settler does)
  expect(bed.deadLetters('quote')).toMatchObject([{ reason: 'max-attempts', attempts: 1, error: { message: 'no price' } }]);
});

it('a request is not retried past its caller\'s deadline: dead-lettered (reason deadline), the caller answered at once', async () => {
  const { MessagePattern } = await import('@nestjs/microservices');
  let calls = 0;
  @Controller()
  class Quotes {
    @MessagePattern('quote', { retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs: 10_000, jitter: 0 } } })
    quote(@Payload() _q: unknown) {
      calls++;
      throw new Error('pricing down');
    }
  }
  await start([Quotes], { group: 'g' });
  const request = new RedisStreamRecordBuilder({}).setTimeout(5000).build();
  await expect(lastValueFrom(bed.client().send('quote', request))).rejects.toMatchObject({ message: 'Internal server error' });
  await bed.drain();
  expect(calls).toBe(1);
  expect(bed.deadLetters('quote')).toMatchObject([{ reason: 'deadline', attempts: 1, error: { message: 'pricing down' } }]);
});

it('drain() follows events a handler emits, and groups each get every event while consumers of one group share them', async () => {
  const seen: string[] = [];
  const client = bed.client();
  @Controller()
  class Orders {
    @EventPattern('orders.placed')
    async placed(@Payload() o: { id: string }) {
      seen.push(`placed ${o.id}`);
      await lastValueFrom(client.emit('orders.billed', o));
    }
  }
  @Controller()
  class Billing {
    @EventPattern('orders.billed')
    billed(@Payload() o: { id: string }, @Ctx() ctx: RedisStreamContext) {
      seen.push(`billed ${o.id} by ${ctx.getGroup()}/${ctx.getConsumer()}`);
    }
  }
  @Module({ controllers: [Orders] })
  class OrdersModule {}
  @Module({ controllers: [Billing] })
  class BillingModule {}
  const apps = [
    await NestFactory.createMicroservice(OrdersModule, { strategy: bed.server({ group: 'orders' }), logger: false }),
    await NestFactory.createMicroservice(BillingModule, { strategy: bed.server({ group: 'billing', consumer: 'b1', concurrency: 1 }), logger: false }),
    await NestFactory.createMicroservice(BillingModule, { strategy: bed.server({ group: 'billing', consumer: 'b2', concurrency: 1 }), logger: false }),
    await NestFactory.createMicroservice(BillingModule, { strategy: bed.server({ group: 'audit', consumer: 'a1' }), logger: false }),
  ];
  for (const a of apps) await a.listen();
  await client.emitMany('orders.placed', [{ id: '1' }, { id: '2' }]);
  await bed.drain();
  expect(seen.filter(s => s.startsWith('placed'))).toHaveLength(2);
  expect(seen.filter(s => s.includes('by audit/a1'))).toHaveLength(2);
  const billing = seen.filter(s => s.includes('by billing/'));
  expect(billing).toHaveLength(2);
  expect(new Set(billing.map(s => s.split('/')[1])).size).toBe(2); // one each: concurrency 1, both busy at once
  for (const a of apps) await a.close();
});

it('deadLetters() reads the stream deadLetter.key names; deadLetter: false only acks', async () => {
  @Controller()
  class Refuses {
    @EventPattern('refused')
    handle(@Payload() _e: unknown) {
      throw new UnrecoverableEventError('no');
    }
  }
  await start([Refuses], { group: 'g', deadLetter: { key: stream => `dead:${stream}` } });
  await lastValueFrom(bed.client().emit('refused', {}));
  await bed.drain();
  expect(bed.deadLetters('refused')).toMatchObject([{ reason: 'unrecoverable' }]);
  expect(bed.entries('dead:refused')).toHaveLength(1);
  await app!.close();

  const other = new StreamsTestBed();
  @Module({ controllers: [Refuses] })
  class M {}
  const dropping = await NestFactory.createMicroservice(M, { strategy: other.server({ group: 'g', deadLetter: false }), logger: false });
  await dropping.listen();
  await lastValueFrom(other.client().emit('refused', {}));
  await other.drain();
  expect(other.deadLetters('refused')).toEqual([]);
  expect(other.pending('refused', 'g')).toBe(0);
  await dropping.close();
});
