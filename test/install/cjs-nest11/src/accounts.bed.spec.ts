import { dirname } from 'node:path';
import { INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy } from '@nestjs/microservices';
import { StreamsTestBed } from '@nestream/testing';
import { lastValueFrom } from 'rxjs';
import { AccountsController, Ledger } from './accounts.controller';

// The installed @nestream/testing in a CommonJS Nest 11 app (Jest): no Redis, virtual time.

@Module({ controllers: [AccountsController], providers: [Ledger] })
class AccountsModule {}

async function start(bed: StreamsTestBed, redeliver: 'never' | 'always' = 'never') {
  const retry = { maxAttempts: 6, backoff: { type: 'fixed' as const, delayMs: 10_000, jitter: 0 } };
  const app = await NestFactory.createMicroservice(AccountsModule, { strategy: bed.server({ group: 'accounts', retry, redeliver }), logger: false });
  await app.listen();
  return app;
}

describe('accounts on the in-memory test bed', () => {
  let bed: StreamsTestBed;
  let app: INestMicroservice;
  let client: ClientProxy;

  beforeEach(async () => {
    bed = new StreamsTestBed();
    app = await start(bed);
    client = bed.client();
  });

  afterEach(async () => {
    await app.close();
    await bed.close();
  });

  it('loads the CommonJS build, on the app\'s own copy of @nestream/transport', () => {
    expect(require.resolve('@nestream/testing')).toMatch(/dist[\\/]cjs[\\/]index\.js$/);
    const fromTesting = require.resolve('@nestream/transport', { paths: [dirname(require.resolve('@nestream/testing'))] });
    expect(fromTesting).toBe(require.resolve('@nestream/transport'));
  });

  it('success, retry then success, dead letter and a request, in well under a second', async () => {
    const started = Date.now();
    const ledger = app.get(Ledger);
    await lastValueFrom(client.emit('accounts.credited', { account: 'a', amount: 1 }));
    await bed.drain();
    ledger.failuresLeft = 5;
    await lastValueFrom(client.emit('accounts.credited', { account: 'b', amount: 2 }));
    await bed.drain();
    ledger.failuresLeft = 100;
    await lastValueFrom(client.emit('accounts.credited', { account: 'c', amount: 3 }));
    await bed.drain();
    await expect(lastValueFrom(client.send('accounts.balance', { account: 'b' }))).resolves.toBe(2);
    expect(ledger.balances.get('a')).toBe(1);
    expect(bed.calls('accounts.credited')).toBe(1 + 6 + 6);
    expect(bed.deadLetters('accounts.credited')).toMatchObject([{ reason: 'max-attempts', attempts: 6, data: { account: 'c', amount: 3 } }]);
    expect(bed.pending('accounts.credited', 'accounts')).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('the redelivery check', () => {
  async function creditsAfterRedelivery(pattern: string): Promise<number | undefined> {
    const bed = new StreamsTestBed();
    const app = await start(bed, 'always');
    await lastValueFrom(bed.client().emit(pattern, { account: 'a', amount: 10 }));
    await bed.drain();
    const balance = app.get(Ledger).balances.get('a');
    await app.close();
    return balance;
  }

  it('catches the non-idempotent handler (credited twice) and passes the idempotent one', async () => {
    expect(await creditsAfterRedelivery('accounts.credited')).toBe(20);
    expect(await creditsAfterRedelivery('accounts.welcomed')).toBe(10);
  });
});
