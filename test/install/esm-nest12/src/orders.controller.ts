import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import { createRequire } from 'node:module';

@Controller()
export class OrdersController {
  readonly handled: Array<{ order: { id: number }; stream: string }> = [];

  @EventPattern('orders.created')
  onOrderCreated(@Payload() order: { id: number }, @Ctx() ctx: RedisStreamContext) {
    this.handled.push({ order, stream: ctx.getStream() });
  }

  /** Throws the CommonJS copy's UnrecoverableEventError at an ESM server: dead-lettered at once all the same. */
  @EventPattern('orders.poison', { retry: { maxAttempts: 5 } })
  onPoison() {
    const cjs = createRequire(import.meta.url)('@nestream/transport') as typeof import('@nestream/transport');
    throw new cjs.UnrecoverableEventError('poison order');
  }
}
