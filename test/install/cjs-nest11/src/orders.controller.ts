import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';

@Controller()
export class OrdersController {
  readonly handled: Array<{ order: { id: number }; stream: string }> = [];

  @EventPattern('orders.created')
  onOrderCreated(@Payload() order: { id: number }, @Ctx() ctx: RedisStreamContext) {
    this.handled.push({ order, stream: ctx.getStream() });
  }
}
