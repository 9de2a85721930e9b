// Inventory service: consumes `orders.created` (consumer group "inventory"), reserves stock, and emits
// `inventory.reserved` or `inventory.rejected`.
//
// Failure modes it shows on purpose:
//   - every FAIL_EVERY-th first attempt throws a plain Error (a "flaky warehouse database"): the entry
//     stays pending, the transport retries it after a backoff, and the retry succeeds;
//   - SKUs stored in OFFLINE_WAREHOUSE fail on every attempt: after retry.maxAttempts the entry is
//     dead-lettered with reason `max-attempts`;
//   - an invalid order (unknown SKU, bad quantity) throws UnrecoverableEventError: no retry, the entry
//     goes straight to `orders.created:dlq` with reason `unrecoverable`.
import { Controller, Inject, Injectable, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { RedisStreamsClient, RedisStreamsServer, UnrecoverableEventError } from '@nestream/transport';
import {
  CompactLogger, Metrics, REDIS_URL, closeOnSignals, consumerName, decorateMethod, decorateParams,
  announceReady, exitOnStartupError, injectConstructor, instrumentTransport, serveMetrics,
} from './common.mjs';

const SERVICE = 'inventory';
const EVENTS = Symbol('EVENTS');
const FAIL_EVERY = Number(process.env.FAIL_EVERY ?? 4); // 0 = never
const RESTOCK_EVERY_MS = Number(process.env.RESTOCK_EVERY_MS ?? 0); // 0 = never (the compose stack restocks)
const metrics = new Metrics();
const reservations = metrics.counter('sample_inventory_decisions_total', 'Orders decided, by outcome (reserved or rejected).');

/** Stock per SKU, and which warehouse holds it. In memory: a real service would use a database. */
class Stock {
  constructor() {
    this.initial = { widget: 12, gadget: 5, gizmo: 50 };
    this.items = new Map([
      ['widget', { available: this.initial.widget, warehouse: 'north' }],
      ['gadget', { available: this.initial.gadget, warehouse: 'north' }],
      ['gizmo', { available: this.initial.gizmo, warehouse: 'south' }],
    ]);
    /** orderId -> decision. Delivery is at-least-once: a redelivered order must not reserve twice. */
    this.decisions = new Map();
    if (RESTOCK_EVERY_MS > 0) {
      this.timer = setInterval(() => {
        for (const [sku, item] of this.items) item.available = this.initial[sku];
        new Logger('Inventory').log('restocked');
      }, RESTOCK_EVERY_MS);
    }
  }

  onModuleDestroy() {
    clearInterval(this.timer);
  }
}
Injectable()(Stock);

class InventoryController {
  constructor(events, stock) {
    this.events = events;
    this.stock = stock;
    this.logger = new Logger('Inventory');
    this.firstAttempts = 0;
  }

  /** @EventPattern('orders.created') onOrderCreated(@Payload() order, @Ctx() ctx: RedisStreamContext) */
  async onOrderCreated(order, ctx) {
    const attempt = ctx.getDeliveryCount();
    const item = this.stock.items.get(order?.sku);
    if (!order?.orderId || !item) {
      throw new UnrecoverableEventError(`unknown SKU ${JSON.stringify(order?.sku)} in order ${order?.orderId}`);
    }
    if (!Number.isInteger(order.quantity) || order.quantity < 1) {
      throw new UnrecoverableEventError(`invalid quantity ${JSON.stringify(order.quantity)} in order ${order.orderId}`);
    }
    if (item.warehouse === process.env.OFFLINE_WAREHOUSE) {
      throw new Error(`warehouse "${item.warehouse}" is not answering (order ${order.orderId}, attempt ${attempt})`);
    }
    if (attempt === 1 && FAIL_EVERY > 0 && ++this.firstAttempts % FAIL_EVERY === 0) {
      throw new Error(`stock database connection reset (order ${order.orderId}, attempt ${attempt})`);
    }

    let decision = this.stock.decisions.get(order.orderId);
    if (!decision) {
      if (item.available >= order.quantity) {
        item.available -= order.quantity;
        decision = { pattern: 'inventory.reserved', left: item.available };
      } else {
        decision = { pattern: 'inventory.rejected', reason: `only ${item.available} ${order.sku} left` };
      }
      this.stock.decisions.set(order.orderId, decision);
      reservations.inc({ outcome: decision.pattern === 'inventory.reserved' ? 'reserved' : 'rejected' });
    }
    // Emit before returning: the order entry is acked only after this resolves, so a failed emit
    // (Redis down) makes the transport retry the order instead of losing the outcome.
    const outcome = { orderId: order.orderId, customer: order.customer, sku: order.sku, quantity: order.quantity };
    if (decision.pattern === 'inventory.reserved') {
      await lastValueFrom(this.events.emit('inventory.reserved', outcome));
      this.logger.log(`order ${order.orderId}: reserved ${order.quantity} x ${order.sku} (${decision.left} left)${attempt > 1 ? ` on attempt ${attempt}` : ''}`);
    } else {
      await lastValueFrom(this.events.emit('inventory.rejected', { ...outcome, reason: decision.reason }));
      this.logger.log(`order ${order.orderId}: rejected, ${decision.reason}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
    }
  }
}
injectConstructor(InventoryController, Inject(EVENTS), Inject(Stock));
Controller()(InventoryController);
decorateMethod(InventoryController, 'onOrderCreated', EventPattern('orders.created'));
decorateParams(InventoryController, 'onOrderCreated', Payload(), Ctx());

class InventoryModule {}
Module({
  imports: [
    ClientsModule.register([{ name: EVENTS, customClass: RedisStreamsClient, options: { connection: REDIS_URL } }]),
  ],
  controllers: [InventoryController],
  providers: [Stock],
})(InventoryModule);

async function main() {
  const logger = new CompactLogger(SERVICE);
  const server = new RedisStreamsServer({
    connection: REDIS_URL,
    group: SERVICE,
    consumer: consumerName(SERVICE),
    // A new group starts at the beginning of the stream: orders placed before the first deploy are handled.
    startId: '0',
    // Short delays so the demo shows retries within seconds: 200 ms, then 400 ms, then dead letter.
    retry: { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 200, maxDelayMs: 2000 } },
  });
  const transport = instrumentTransport(server, metrics);
  const app = await NestFactory.createMicroservice(InventoryModule, { strategy: server, logger });
  await app.listen();
  const metricsServer = await serveMetrics(metrics, { service: SERVICE, isHealthy: transport.isConnected });
  closeOnSignals(app, metricsServer, logger);
  announceReady({ service: SERVICE, metricsPort: metricsServer.address().port });
  logger.log(`ready: consuming orders.created as group "${SERVICE}", metrics on :${metricsServer.address().port}`, 'Main');
}

main().catch(exitOnStartupError(new CompactLogger(SERVICE)));
