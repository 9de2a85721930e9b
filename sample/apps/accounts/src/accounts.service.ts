import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { UserRegisteredEvent } from '@sample/contracts';
import { Repository } from 'typeorm';
import { Account } from './account.entity.js';
import { WELCOME_CREDIT_CENTS } from './welcome-credit.js';

@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);

  constructor(@InjectRepository(Account) private readonly accounts: Repository<Account>) {}

  /**
   * Opens the user's account with the welcome credit, once: `INSERT ... ON CONFLICT (user_id) DO NOTHING`. The
   * event may be delivered again (a consumer crashed before its ack, or the outbox published it twice); the
   * primary key turns every later copy into a no-op, in the same statement that does the work.
   * Resolves true if this call opened the account.
   */
  async open(event: UserRegisteredEvent, entryId: string): Promise<boolean> {
    const result = await this.accounts
      .createQueryBuilder()
      .insert()
      .into(Account)
      .values({ userId: event.userId, email: event.email, creditCents: WELCOME_CREDIT_CENTS, openedAt: new Date(), openedByEntry: entryId })
      .orIgnore()
      .returning(['userId'])
      .execute();
    const opened = (result.raw as unknown[]).length === 1;
    if (opened) this.logger.log(`opened account of ${event.email} (${event.userId}) from entry ${entryId}`);
    else this.logger.log(`account of ${event.userId} already open: entry ${entryId} changed nothing`);
    return opened;
  }

  async get(userId: string): Promise<Account> {
    const account = await this.accounts.findOneBy({ userId });
    if (!account) throw new NotFoundException(`no account for user ${userId}`);
    return account;
  }
}
