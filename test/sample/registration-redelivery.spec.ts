import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Controller, Injectable, Module, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { StreamsTestBed, type RedeliverMode } from '@nestream/testing';
import { USER_REGISTERED, type UserRegisteredEvent } from '@sample/contracts';
import { lastValueFrom } from 'rxjs';
import type { Repository } from 'typeorm';
import { Account } from '../../sample/apps/accounts/src/account.entity.js';
import { AccountsController } from '../../sample/apps/accounts/src/accounts.controller.js';
import { AccountsService } from '../../sample/apps/accounts/src/accounts.service.js';
import { WELCOME_CREDIT_CENTS } from '../../sample/apps/accounts/src/welcome-credit.js';
import { embeddedPostgres, type TestDatabase } from './sample-system.js';

/**
 * The redelivery check of @nestream/testing on the sample's registration handler, with its real database
 * (embedded Postgres) and no Redis: every `user.registered` is delivered twice (`always`), or a second time while
 * the first call still runs (`crash`). The sample's handler opens the account with its welcome credit once
 * (INSERT ... ON CONFLICT DO NOTHING, keyed on the user); a naive one that credits in a second statement is caught.
 */

/** The bug the check is for: opening and crediting in two statements, the credit keyed on nothing. */
@Injectable()
class NaiveAccounts {
  constructor(@InjectRepository(Account) private readonly accounts: Repository<Account>) {}

  async open(event: UserRegisteredEvent, entryId: string): Promise<void> {
    await this.accounts.createQueryBuilder().insert().into(Account)
      .values({ userId: event.userId, email: event.email, creditCents: 0, openedAt: new Date(), openedByEntry: entryId })
      .orIgnore().execute();
    await this.accounts.increment({ userId: event.userId }, 'creditCents', WELCOME_CREDIT_CENTS);
  }
}

@Controller()
class NaiveAccountsController {
  constructor(private readonly accounts: NaiveAccounts) {}

  @EventPattern(USER_REGISTERED)
  async onUserRegistered(@Payload() event: UserRegisteredEvent) {
    await this.accounts.open(event, randomUUID());
  }
}

let database: TestDatabase;

beforeAll(async () => {
  database = await embeddedPostgres();
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

/** Registers one user through a bed in the given mode; returns the user's credit as the database has it. */
async function creditAfter(controller: Type<unknown>, service: Type<unknown>, redeliver: RedeliverMode): Promise<number[]> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: database.url, schema: 'accounts', autoLoadEntities: true, synchronize: false, extra: { max: 2 } }),
      TypeOrmModule.forFeature([Account]),
    ],
    controllers: [controller],
    providers: [service],
  })
  class AccountsUnderTest {}
  const bed = new StreamsTestBed();
  const app: INestMicroservice = await NestFactory.createMicroservice(AccountsUnderTest, {
    strategy: bed.server({ group: 'accounts', startId: '0', redeliver }),
    logger: false,
  });
  await app.listen();
  const userId = randomUUID();
  const event: UserRegisteredEvent = { userId, email: `${userId.slice(0, 8)}@example.com`, name: 'Ada', registeredAt: new Date().toISOString() };
  try {
    await lastValueFrom(bed.client().emit(USER_REGISTERED, event));
    await bed.drain();
    expect(bed.calls(USER_REGISTERED)).toBe(redeliver === 'never' ? 1 : 2);
    expect(bed.pending(USER_REGISTERED, 'accounts')).toBe(0);
    const rows = await database.pool.query('SELECT credit_cents FROM accounts.accounts WHERE user_id = $1', [userId]);
    return rows.rows.map(r => Number(r.credit_cents));
  } finally {
    await app.close();
    await bed.close();
  }
}

describe("the sample's user.registered handler under the redelivery check", () => {
  it.each<RedeliverMode>(['always', 'crash'])('opens one account with one welcome credit (redeliver: %s)', async mode => {
    expect(await creditAfter(AccountsController, AccountsService, mode)).toEqual([WELCOME_CREDIT_CENTS]);
  });

  it('catches a handler that credits in a second statement: one delivery is fine, two credit twice', async () => {
    expect(await creditAfter(NaiveAccountsController, NaiveAccounts, 'never')).toEqual([WELCOME_CREDIT_CENTS]);
    expect(await creditAfter(NaiveAccountsController, NaiveAccounts, 'always')).toEqual([2 * WELCOME_CREDIT_CENTS]);
  });
});
