import 'reflect-metadata';
import { Controller, Injectable, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { RedisStreamContext } from '@nestream/transport';
import { StreamsTestBed, type RedeliverMode } from '@nestream/testing';

/** What a welcome flow writes: credits per user, and the registrations it has already handled. */
@Injectable()
class Accounts {
  readonly credits = new Map<string, number>();
  readonly handled = new Set<string>();
  /** A stand-in for a database round trip (an await between a check and a write). */
  async roundTrip(): Promise<void> {
    await Promise.resolve();
  }
}

@Controller()
class NonIdempotentWelcome {
  constructor(private readonly accounts: Accounts) {}
  @EventPattern('users.registered')
  async welcome(@Payload() e: { user: string }) {
    await this.accounts.roundTrip();
    this.accounts.credits.set(e.user, (this.accounts.credits.get(e.user) ?? 0) + 10);
  }
}

/** Checks, then writes after a round trip: safe when deliveries come one after another, not when they overlap. */
@Controller()
class CheckThenActWelcome {
  constructor(private readonly accounts: Accounts) {}
  @EventPattern('users.registered')
  async welcome(@Payload() e: { user: string }, @Ctx() ctx: RedisStreamContext) {
    if (this.accounts.handled.has(ctx.getMessageId())) return;
    await this.accounts.roundTrip();
    this.accounts.handled.add(ctx.getMessageId());
    this.accounts.credits.set(e.user, (this.accounts.credits.get(e.user) ?? 0) + 10);
  }
}

/** Claims the entry id first (an insert that fails on a duplicate), then writes: safe either way. */
@Controller()
class IdempotentWelcome {
  constructor(private readonly accounts: Accounts) {}
  @EventPattern('users.registered')
  async welcome(@Payload() e: { user: string }, @Ctx() ctx: RedisStreamContext) {
    if (this.accounts.handled.has(ctx.getMessageId())) return;
    this.accounts.handled.add(ctx.getMessageId());
    await this.accounts.roundTrip();
    this.accounts.credits.set(e.user, (this.accounts.credits.get(e.user) ?? 0) + 10);
  }
}

/** Runs two registrations through a bed in the given mode; returns the credits the handler left. */
async function creditsAfter(controller: Type<unknown>, redeliver: RedeliverMode): Promise<{ credits: Record<string, number>; calls: number }> {
  @Module({ controllers: [controller], providers: [Accounts] })
  class WelcomeModule {}
  const bed = new StreamsTestBed();
  const app = await NestFactory.createMicroservice(WelcomeModule, { strategy: bed.server({ group: 'welcome', redeliver }), logger: false });
  await app.listen();
  const client = bed.client();
  await lastValueFrom(client.emit('users.registered', { user: 'ada' }));
  await lastValueFrom(client.emit('users.registered', { user: 'bob' }));
  await bed.drain();
  const credits = Object.fromEntries(app.get(Accounts).credits);
  const calls = bed.calls('users.registered');
  expect(bed.pending('users.registered', 'welcome')).toBe(0);
  await app.close();
  await bed.close();
  return { credits, calls };
}

const ONCE = { ada: 10, bob: 10 };

describe("redeliver: 'always'", () => {
  it('delivers every event twice, the second time to another consumer with delivery count 2', async () => {
    const seen: Array<{ consumer: string; count: number }> = [];
    @Controller()
    class Spy {
      @EventPattern('users.registered')
      handle(@Payload() _e: unknown, @Ctx() ctx: RedisStreamContext) {
        seen.push({ consumer: ctx.getConsumer(), count: ctx.getDeliveryCount() });
      }
    }
    @Module({ controllers: [Spy] })
    class SpyModule {}
    const bed = new StreamsTestBed();
    const app = await NestFactory.createMicroservice(SpyModule, { strategy: bed.server({ group: 'g', consumer: 'c1', redeliver: 'always' }), logger: false });
    await app.listen();
    await lastValueFrom(bed.client().emit('users.registered', { user: 'ada' }));
    await bed.drain();
    expect(seen).toEqual([{ consumer: 'c1', count: 1 }, { consumer: 'c1~redelivered', count: 2 }]);
    await app.close();
  });

  it('catches a handler that is not idempotent: the state differs from one delivery', async () => {
    expect(await creditsAfter(NonIdempotentWelcome, 'never')).toEqual({ credits: ONCE, calls: 2 });
    expect(await creditsAfter(NonIdempotentWelcome, 'always')).toEqual({ credits: { ada: 20, bob: 20 }, calls: 4 });
  });

  it('passes an idempotent handler: the state is the same as with one delivery', async () => {
    expect(await creditsAfter(IdempotentWelcome, 'always')).toEqual({ credits: ONCE, calls: 4 });
    expect(await creditsAfter(CheckThenActWelcome, 'always')).toEqual({ credits: ONCE, calls: 4 });
  });
});

describe("redeliver: 'crash'", () => {
  it('redelivers while the first call still runs: catches check-then-act, passes claim-first', async () => {
    expect(await creditsAfter(CheckThenActWelcome, 'crash')).toEqual({ credits: { ada: 20, bob: 20 }, calls: 4 });
    expect(await creditsAfter(IdempotentWelcome, 'crash')).toEqual({ credits: ONCE, calls: 4 });
  });
});
