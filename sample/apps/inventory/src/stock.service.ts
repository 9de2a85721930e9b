import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { UnrecoverableEventError } from '@nestream/transport';
import type { OrderPlacedEvent } from '@sample/contracts';
import { DataSource, Repository } from 'typeorm';
import { Reservation } from './reservation.entity.js';
import { StockItem } from './stock-item.entity.js';

@Injectable()
export class StockService {
  private readonly logger = new Logger(StockService.name);
  private readonly failEvery: number;
  private readonly offlineWarehouse: string | undefined;
  private firstAttempts = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Reservation) private readonly reservations: Repository<Reservation>,
    config: ConfigService,
  ) {
    this.failEvery = config.getOrThrow<number>('INVENTORY_FAIL_EVERY');
    this.offlineWarehouse = config.get<string>('INVENTORY_OFFLINE_WAREHOUSE');
  }

  /**
   * Reserves the order's stock, or rejects the order when there is not enough; resolves with the decision. An
   * order decided before (a redelivery) gets its recorded decision back, and nothing changes.
   *
   * Throws UnrecoverableEventError for an unknown SKU (no retry can help: dead letter at once), and a plain Error
   * while the SKU's warehouse is offline (retried with backoff, then dead-lettered with reason max-attempts).
   */
  async decide(order: OrderPlacedEvent, attempt: number): Promise<Reservation> {
    const decided = await this.reservations.findOneBy({ orderId: order.orderId });
    if (decided) {
      this.logger.log(`order ${order.orderId}: decided before (${decided.outcome}), delivery ${attempt} changed nothing`);
      return decided;
    }
    this.injectFailure(order, attempt);
    return this.dataSource.transaction(async manager => {
      const item = await manager.findOne(StockItem, { where: { sku: order.sku }, lock: { mode: 'pessimistic_write' } });
      if (!item) throw new UnrecoverableEventError(`unknown SKU "${order.sku}" in order ${order.orderId}`);
      if (item.warehouse === this.offlineWarehouse) {
        throw new Error(`warehouse "${item.warehouse}" is not answering (order ${order.orderId}, delivery ${attempt})`);
      }
      const enough = item.available >= order.quantity;
      if (enough) await manager.decrement(StockItem, { sku: item.sku }, 'available', order.quantity);
      const reservation = manager.create(Reservation, {
        orderId: order.orderId,
        sku: order.sku,
        quantity: order.quantity,
        outcome: enough ? 'reserved' : 'rejected',
        reason: enough ? null : `only ${item.available} ${item.sku} left`,
        attempt,
        decidedAt: new Date(),
      });
      // Two copies of one order handled at once by two replicas: the second insert violates the primary key, its
      // transaction (with its decrement) rolls back, and its retry finds the first one's decision.
      await manager.insert(Reservation, reservation);
      return reservation;
    });
  }

  /** INVENTORY_FAIL_EVERY: a "flaky stock database" failing on some first deliveries, so retries show. */
  private injectFailure(order: OrderPlacedEvent, attempt: number): void {
    if (attempt !== 1 || this.failEvery === 0) return;
    if (++this.firstAttempts % this.failEvery === 0) {
      throw new Error(`stock database connection reset (order ${order.orderId}, delivery ${attempt})`);
    }
  }

  levels(): Promise<StockItem[]> {
    return this.dataSource.getRepository(StockItem).find({ order: { sku: 'ASC' } });
  }
}
