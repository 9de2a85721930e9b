import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import {
  ORDER_PLACED_DEAD_LETTERS,
  STOCK_REJECTED,
  STOCK_RESERVED,
  StockRejectedEvent,
  StockReservedEvent,
  type OrderPlacedEvent,
} from '@sample/contracts';
import { isUUID } from 'class-validator';
import { OrdersService } from './orders.service.js';

/** Consumer group "orders": the inventory's decisions, and the orders the inventory gave up on. */
@Controller()
export class OrderEventsController {
  private readonly logger = new Logger(OrderEventsController.name);

  constructor(private readonly orders: OrdersService) {}

  @EventPattern(STOCK_RESERVED)
  async onReserved(@Payload() event: StockReservedEvent): Promise<void> {
    await this.orders.settle(event.orderId, 'confirmed');
  }

  @EventPattern(STOCK_REJECTED)
  async onRejected(@Payload() event: StockRejectedEvent): Promise<void> {
    await this.orders.settle(event.orderId, 'rejected', event.reason);
  }

  /**
   * A dead-letter stream is a stream: entries keep their original fields, so the payload is the order event the
   * inventory could not handle. Not validated (the parameter type is not a class): it may be the very payload that
   * failed validation. The order is marked failed, so the customer is told; the entry stays in the dead-letter
   * stream for whoever investigates.
   */
  @EventPattern(ORDER_PLACED_DEAD_LETTERS)
  async onDeadLettered(@Payload() order: Partial<OrderPlacedEvent>, @Ctx() ctx: RedisStreamContext): Promise<void> {
    const orderId = order?.orderId;
    if (typeof orderId !== 'string' || !isUUID(orderId)) {
      this.logger.warn(`dead letter ${ctx.getMessageId()} is no order of ours: ${JSON.stringify(order)}`);
      return;
    }
    await this.orders.settle(orderId, 'failed', 'the inventory could not process it');
  }
}
