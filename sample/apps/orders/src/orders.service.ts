import { randomUUID } from 'node:crypto';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { addToOutbox, OutboxRelay } from '@sample/common';
import { ORDER_PLACED, ORDER_SETTLED, type OrderFinalState, type OrderPlacedEvent, type OrderSettledEvent } from '@sample/contracts';
import { DataSource, Repository } from 'typeorm';
import { Order } from './order.entity.js';
import type { PlaceOrderDto } from './place-order.dto.js';

@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    private readonly outbox: OutboxRelay,
  ) {}

  /** Stores the order (`placed`) and queues `order.placed`, in one transaction. */
  async place(dto: PlaceOrderDto): Promise<Order> {
    const order = this.orders.create({ id: randomUUID(), ...dto, status: 'placed', reason: null, placedAt: new Date(), settledAt: null });
    await this.dataSource.transaction(async manager => {
      await manager.insert(Order, order);
      const event: OrderPlacedEvent = {
        orderId: order.id,
        customerEmail: order.customerEmail,
        sku: order.sku,
        quantity: order.quantity,
        placedAt: order.placedAt.toISOString(),
      };
      await addToOutbox(manager, ORDER_PLACED, event);
    });
    this.outbox.wake();
    return order;
  }

  /**
   * Moves a `placed` order to its final state and queues `order.settled`, in one transaction. The condition
   * `status = 'placed'` makes it idempotent: the inventory may report the same order twice (it re-emits its
   * decision when an order entry is delivered again), and only the first report changes anything.
   * Resolves false when the order was settled already, or is unknown.
   */
  async settle(orderId: string, status: OrderFinalState, reason?: string): Promise<boolean> {
    const settled = await this.dataSource.transaction(async manager => {
      const result = await manager
        .createQueryBuilder()
        .update(Order)
        .set({ status, reason: reason ?? null, settledAt: new Date() })
        .where('id = :orderId AND status = :placed', { orderId, placed: 'placed' })
        .returning('*')
        .execute();
      const [row] = result.raw as Array<{ customer_email: string; sku: string; quantity: number }>;
      if (!row) return false;
      const event: OrderSettledEvent = { orderId, customerEmail: row.customer_email, sku: row.sku, quantity: row.quantity, status, reason };
      await addToOutbox(manager, ORDER_SETTLED, event);
      return true;
    });
    if (settled) this.outbox.wake();
    else this.logger.log(`order ${orderId}: already settled or unknown, "${status}" changed nothing`);
    return settled;
  }

  async get(id: string): Promise<Order> {
    const order = await this.orders.findOneBy({ id });
    if (!order) throw new NotFoundException(`no order ${id}`);
    return order;
  }
}
