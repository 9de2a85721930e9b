import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import { ORDER_SETTLED, OrderSettledEvent, USER_REGISTERED, UserRegisteredEvent } from '@sample/contracts';
import { MailService } from './mail.service.js';
import { orderSettledMail, welcomeMail } from './mails.js';

/**
 * Consumer group "mailer" (its replicas share the entries of both streams). Payloads arrive validated against the
 * contract classes (global ValidationPipe, main.ts): an invalid one is dead-lettered with reason `validation`.
 *
 * A handler that returns has its entry acked. One that throws has it retried with backoff (`retry` in
 * app.module.ts), then dead-lettered to `<stream>:dlq`; UnrecoverableEventError skips the retries.
 * Delivery is at least once, so each handler is idempotent: MailService keys every mail on the user or order id.
 */
@Controller()
export class MailerController {
  constructor(private readonly mail: MailService) {}

  @EventPattern(USER_REGISTERED)
  async onUserRegistered(@Payload() user: UserRegisteredEvent, @Ctx() ctx: RedisStreamContext): Promise<void> {
    await this.mail.sendOnce(welcomeMail(user), ctx);
  }

  @EventPattern(ORDER_SETTLED)
  async onOrderSettled(@Payload() order: OrderSettledEvent, @Ctx() ctx: RedisStreamContext): Promise<void> {
    await this.mail.sendOnce(orderSettledMail(order), ctx);
  }
}
