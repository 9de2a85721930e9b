import 'reflect-metadata';
import { Controller, Inject, Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, type ClientProxy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import {
  InvalidOptionsError,
  RedisStreamContext,
  RedisStreamRecordBuilder,
  RedisStreamsServer,
  UnrecoverableEventError,
} from '@nestream/transport';
import { StreamsTestBed } from '@nestream/testing';

/** A store the handlers write to, so a test can look at what they did. */
@Injectable()
class Ledger {
  readonly credits = new Map<string, number>();
  failuresLeft = 0;
}

@Controller()
class AccountsController {
  constructor(private readonly ledger: Ledger) {}

  @EventPattern('accounts.credited')
  credit(@Payload() e: { account: string; amount: number }, @Ctx() ctx: RedisStreamContext) {
    if (this.ledger.failuresLeft > 0) {
      this.ledger.failuresLeft--;
      throw new Error(`downstream unavailable (attempt ${ctx.getDeliveryCount()})`);
    }
    this.ledger.credits.set(e.account, (this.ledger.credits.get(e.account) ?? 0) + e.amount);
  }

  @EventPattern('accounts.closed')
  close(@Payload() e: { account: string }) {
    if (!this.ledger.credits.has(e.account)) throw new UnrecoverableEventError(`no account ${e.account}`);
    this.ledger.credits.delete(e.account);
  }

  @MessagePattern('accounts.balance')
  balance(@Payload() q: { account: string }) {
    return { account: q.account, balance: this.ledger.credits.get(q.account) ?? 0 };
  }
}

@Module({ controllers: [AccountsController], providers: [Ledger] })
class AccountsModule {}

const retry = { maxAttempts: 6, backoff: { type: 'fixed' as const, delayMs: 10_000, jitter: 0 } };

describe('StreamsTestBed with a Nest microservice', () => {
  let bed: StreamsTestBed;
  let app: INestMicroservice;
  let client: ClientProxy;
  let ledger: Ledger;

  beforeEach(async () => {
    bed = new StreamsTestBed();
    app = await NestFactory.createMicroservice(AccountsModule, { strategy: bed.server({ group: 'accounts', retry }), logger: false });
    await app.listen();
    client = bed.client();
    ledger = app.get(Ledger);
  });

  afterEach(async () => {
    await app.close();
    await bed.close();
  });

  it('acks a handled event', async () => {
    await lastValueFrom(client.emit('accounts.credited', { account: 'a', amount: 10 }));
    await bed.drain();
    expect(ledger.credits.get('a')).toBe(10);
    expect(bed.pending('accounts.credited', 'accounts')).toBe(0);
    expect(bed.calls('accounts.credited')).toBe(1);
    expect(bed.deadLetters('accounts.credited')).toEqual([]);
  });

  it('retries with the configured backoff on the virtual clock: 5 retries of 10 s each in well under a second', async () => {
    ledger.failuresLeft = 5;
    const started = performance.now();
    const before = bed.now();
    await lastValueFrom(client.emit('accounts.credited', { account: 'a', amount: 10 }));
    await bed.drain();
    expect(performance.now() - started).toBeLessThan(500);
    expect(bed.now() - before).toBe(50_000);
    expect(bed.calls('accounts.credited')).toBe(6);
    expect(ledger.credits.get('a')).toBe(10);
    expect(bed.pending('accounts.credited', 'accounts')).toBe(0);
  });

  it('advance() shows the entry waiting between attempts', async () => {
    ledger.failuresLeft = 1;
    await lastValueFrom(client.emit('accounts.credited', { account: 'a', amount: 10 }));
    await bed.advance(0);
    expect(bed.calls('accounts.credited')).toBe(1);
    expect(bed.pending('accounts.credited', 'accounts')).toBe(1);
    await bed.advance(9_999);
    expect(bed.calls('accounts.credited')).toBe(1);
    await bed.advance(1);
    expect(bed.calls('accounts.credited')).toBe(2);
    expect(bed.pending('accounts.credited', 'accounts')).toBe(0);
  });

  it('dead-letters after maxAttempts with the reason, the real error and the attempts', async () => {
    ledger.failuresLeft = 100;
    await lastValueFrom(client.emit('accounts.credited', { account: 'a', amount: 10 }));
    await bed.drain();
    const [dead, ...more] = bed.deadLetters('accounts.credited');
    expect(more).toEqual([]);
    expect(dead).toMatchObject({
      stream: 'accounts.credited', reason: 'max-attempts', attempts: 6, group: 'accounts',
      error: { name: 'Error', message: 'downstream unavailable (attempt 6)' }, data: { account: 'a', amount: 10 },
    });
    expect(bed.calls('accounts.credited')).toBe(6);
    expect(bed.pending('accounts.credited', 'accounts')).toBe(0);
  });

  it('dead-letters an UnrecoverableEventError at once (reason unrecoverable)', async () => {
    await lastValueFrom(client.emit('accounts.closed', { account: 'nobody' }));
    await bed.drain();
    expect(bed.deadLetters('accounts.closed')).toMatchObject([{ reason: 'unrecoverable', attempts: 1, error: { name: 'UnrecoverableEventError' } }]);
  });

  it('answers a request', async () => {
    await lastValueFrom(client.emit('accounts.credited', new RedisStreamRecordBuilder({ account: 'a', amount: 7 }).setHeaders({ tenant: 't' }).build()));
    await bed.drain();
    await expect(lastValueFrom(client.send('accounts.balance', { account: 'a' }))).resolves.toEqual({ account: 'a', balance: 7 });
    expect(bed.entries('accounts.credited')).toMatchObject([{ data: { account: 'a', amount: 7 }, headers: { tenant: 't' } }]);
  });

  it('a request to a pattern nobody handles times out on the virtual clock', async () => {
    const reply = lastValueFrom(client.send('accounts.nobody', {}));
    reply.catch(() => undefined);
    await Promise.resolve();
    await bed.drain();
    await expect(reply).rejects.toMatchObject({ name: 'RequestTimeoutError' });
  });
});

describe('StreamsTestBed options', () => {
  it('refuses a misspelt option with the transport\'s own error', () => {
    const bed = new StreamsTestBed();
    const real = (() => { try { new RedisStreamsServer({ group: 'g', retyr: {} } as never); } catch (e) { return e; } })() as Error;
    expect(real).toBeInstanceOf(InvalidOptionsError);
    expect(() => bed.server({ group: 'g', retyr: {} } as never)).toThrow(real.message);
    expect(() => bed.server({ group: 'g', redeliver: 'sometimes' as never })).toThrow(InvalidOptionsError);
  });

  it('injects bed clients with clientsModule() in Test.createTestingModule', async () => {
    @Injectable()
    class Checkout {
      constructor(@Inject('EVENTS') private readonly events: ClientProxy) {}
      pay(order: string) {
        return lastValueFrom(this.events.emit('orders.paid', { order }));
      }
    }
    const bed = new StreamsTestBed();
    const moduleRef = await Test.createTestingModule({ imports: [bed.clientsModule([{ name: 'EVENTS' }])], providers: [Checkout] }).compile();
    await moduleRef.get(Checkout).pay('o-1');
    expect(bed.emitted('orders.paid')).toMatchObject([{ pattern: 'orders.paid', data: { order: 'o-1' } }]);
    await moduleRef.close();
  });
});
