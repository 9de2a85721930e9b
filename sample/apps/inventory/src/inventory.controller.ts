import { Controller, Get, Inject } from '@nestjs/common';
import { ClientProxy, Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import { ORDER_PLACED, OrderPlacedEvent, STOCK_REJECTED, STOCK_RESERVED, type StockRejectedEvent, type StockReservedEvent } from '@sample/contracts';
import { lastValueFrom } from 'rxjs';
import { EVENTS } from './events.js';
import type { StockItem } from './stock-item.entity.js';
import { StockService } from './stock.service.js';

/** Consumer group "inventory" on `order.placed` (several replicas share it); HTTP `GET /stock`. */
@Controller()
export class InventoryController {
  constructor(
    private readonly stock: StockService,
    @Inject(EVENTS) private readonly events: ClientProxy,
  ) {}

  @EventPattern(ORDER_PLACED)
  async onOrderPlaced(@Payload() order: OrderPlacedEvent, @Ctx() ctx: RedisStreamContext): Promise<void> {
    const decision = await this.stock.decide(order, ctx.getDeliveryCount());
    // Published before returning, without an outbox: the order entry is acked only once this resolves, so a crash
    // in between means the entry is delivered again, and the recorded decision is published again.
    if (decision.outcome === 'reserved') {
      const event: StockReservedEvent = { orderId: order.orderId, sku: order.sku, quantity: order.quantity };
      await lastValueFrom(this.events.emit(STOCK_RESERVED, event));
    } else {
      const event: StockRejectedEvent = { orderId: order.orderId, sku: order.sku, quantity: order.quantity, reason: decision.reason ?? 'rejected' };
      await lastValueFrom(this.events.emit(STOCK_REJECTED, event));
    }
  }

  @Get('stock')
  levels(): Promise<StockItem[]> {
    return this.stock.levels();
  }
}
