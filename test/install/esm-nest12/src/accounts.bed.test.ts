import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import 'reflect-metadata';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ClientProxy } from '@nestjs/microservices';
import { StreamsTestBed } from '@nestream/testing';
import { lastValueFrom } from 'rxjs';
import { AccountsController, Ledger } from './accounts.controller.js';

// The installed @nestream/testing in an ESM Nest 12 app (Vitest): no Redis, virtual time.

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

describe('next to Vitest\'s fake timers', () => {
  it('drain() moves through the backoff on its own clock, neither driven nor blocked by vi.useFakeTimers()', async () => {
    const bed = new StreamsTestBed();
    const app = await start(bed);
    vi.useFakeTimers();
    try {
      app.get(Ledger).failuresLeft = 5;
      await lastValueFrom(bed.client().emit('accounts.credited', { account: 'a', amount: 1 }));
      await bed.drain();
      expect(bed.calls('accounts.credited')).toBe(6);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
      await app.close();
    }
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
