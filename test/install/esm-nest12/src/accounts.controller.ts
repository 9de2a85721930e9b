import { Controller, Inject, Injectable } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';

/** What the handlers write to; a test looks at it. */
@Injectable()
export class Ledger {
  readonly balances = new Map<string, number>();
  readonly seen = new Set<string>();
  failuresLeft = 0;
}

// @Inject(Ledger): Vitest's esbuild emits no decorator metadata, so injection is by explicit token.
@Controller()
export class AccountsController {
  constructor(@Inject(Ledger) private readonly ledger: Ledger) {}

  @EventPattern('accounts.credited')
  credit(@Payload() e: { account: string; amount: number }) {
    if (this.ledger.failuresLeft > 0) {
      this.ledger.failuresLeft--;
      throw new Error('ledger unavailable');
    }
    this.ledger.balances.set(e.account, (this.ledger.balances.get(e.account) ?? 0) + e.amount);
  }

  /** Idempotent: an entry already applied (same id) is not applied again. */
  @EventPattern('accounts.welcomed')
  welcome(@Payload() e: { account: string }, @Ctx() ctx: RedisStreamContext) {
    if (this.ledger.seen.has(ctx.getMessageId())) return;
    this.ledger.seen.add(ctx.getMessageId());
    this.ledger.balances.set(e.account, (this.ledger.balances.get(e.account) ?? 0) + 10);
  }

  @MessagePattern('accounts.balance')
  balance(@Payload() q: { account: string }) {
    return this.ledger.balances.get(q.account) ?? 0;
  }
}
