import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import { USER_REGISTERED, UserRegisteredEvent } from '@sample/contracts';
import type { Account } from './account.entity.js';
import { AccountsService } from './accounts.service.js';

@Controller('accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /** Consumer group "accounts": every registered user gets an account, exactly once however often the event comes. */
  @EventPattern(USER_REGISTERED)
  async onUserRegistered(@Payload() event: UserRegisteredEvent, @Ctx() ctx: RedisStreamContext): Promise<void> {
    await this.accounts.open(event, ctx.getMessageId());
  }

  @Get(':userId')
  get(@Param('userId', ParseUUIDPipe) userId: string): Promise<Account> {
    return this.accounts.get(userId);
  }
}
