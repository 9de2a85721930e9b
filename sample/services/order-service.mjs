// Order service: a hybrid Nest app. HTTP `POST /orders` stores the order and emits `orders.created`
// with RedisStreamsClient; as a Redis Streams consumer (group "orders") it follows `inventory.reserved`
// and `inventory.rejected` to update each order's status, shown by `GET /orders`.
import { randomBytes } from 'node:crypto';
import {
  Body, Controller, Get, HttpCode, Inject, Injectable, Logger, Module, NotFoundException, Param, Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { RedisStreamRecordBuilder, RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';
import {
  CompactLogger, Metrics, REDIS_URL, closeOnSignals, consumerName, decorateMethod, decorateParams,
  announceReady, exitOnStartupError, injectConstructor, instrumentTransport, serveMetrics,
} from './common.mjs';

const SERVICE = 'orders';
const PORT = Number(process.env.PORT ?? 3000);
const EVENTS = Symbol('EVENTS');
const metrics = new Metrics();
const placed = metrics.counter('sample_orders_placed_total', 'Orders accepted by POST /orders.');
const updates = metrics.counter('sample_order_status_updates_total', 'Order status changes received from the inventory, by status.');

/** The orders, in memory (a real service would use a database). */
class OrderStore {
  constructor() {
    this.orders = new Map();
  }
}
Injectable()(OrderStore);

// --- HTTP side -------------------------------------------------------------------------------
class OrdersHttpController {
  constructor(events, store) {
    this.events = events;
    this.store = store;
    this.logger = new Logger('Orders');
  }

  /** @Post() @HttpCode(201) create(@Body() body) */
  async create(body) {
    const order = {
      orderId: `ord-${randomBytes(3).toString('hex')}`,
      customer: String(body?.customer ?? 'anonymous'),
      // Passed on as given: checking SKUs and quantities is the inventory's job (and shows dead letters).
      sku: body?.sku,
      quantity: body?.quantity,
      status: 'placed',
    };
    this.store.orders.set(order.orderId, order);
    const { status, ...event } = order;
    // emit() resolves with the stream entry id once Redis has the event (XADD); headers travel with it.
    const record = new RedisStreamRecordBuilder(event).setHeaders({ source: 'order-service' }).build();
    const entryId = await lastValueFrom(this.events.emit('orders.created', record));
    placed.inc();
    this.logger.log(`order ${order.orderId} placed: ${JSON.stringify(order.quantity)} x ${JSON.stringify(order.sku)} for ${order.customer} (entry ${entryId})`);
    return { ...order, entryId };
  }

  /** @Get() list() */
  list() {
    const orders = [...this.store.orders.values()];
    const counts = {};
    for (const o of orders) counts[o.status] = (counts[o.status] ?? 0) + 1;
    return { counts, orders };
  }

  /** @Get(':orderId') get(@Param('orderId') orderId) */
  get(orderId) {
    const order = this.store.orders.get(orderId);
    if (!order) throw new NotFoundException(`no order ${orderId}`);
    return order;
  }
}
injectConstructor(OrdersHttpController, Inject(EVENTS), Inject(OrderStore));
Controller('orders')(OrdersHttpController);
decorateMethod(OrdersHttpController, 'create', Post(), HttpCode(201));
decorateParams(OrdersHttpController, 'create', Body());
decorateMethod(OrdersHttpController, 'list', Get());
decorateMethod(OrdersHttpController, 'get', Get(':orderId'));
decorateParams(OrdersHttpController, 'get', Param('orderId'));

// --- Redis Streams side ----------------------------------------------------------------------
class OrderStatusController {
  constructor(store) {
    this.store = store;
    this.logger = new Logger('OrderStatus');
  }

  /** @EventPattern('inventory.reserved') onReserved(@Payload() event) */
  onReserved(event) {
    this.#setStatus(event.orderId, 'reserved');
  }

  /** @EventPattern('inventory.rejected') onRejected(@Payload() event) */
  onRejected(event) {
    this.#setStatus(event.orderId, 'rejected', event.reason);
  }

  #setStatus(orderId, status, reason) {
    const order = this.store.orders.get(orderId);
    // Unknown after a restart of this in-memory store: nothing to update, and retrying would not help.
    if (!order) return this.logger.warn(`status ${status} for unknown order ${orderId}, ignored`);
    order.status = status;
    if (reason) order.reason = reason;
    updates.inc({ status });
  }
}
injectConstructor(OrderStatusController, Inject(OrderStore));
Controller()(OrderStatusController);
decorateMethod(OrderStatusController, 'onReserved', EventPattern('inventory.reserved'));
decorateParams(OrderStatusController, 'onReserved', Payload());
decorateMethod(OrderStatusController, 'onRejected', EventPattern('inventory.rejected'));
decorateParams(OrderStatusController, 'onRejected', Payload());

class OrderModule {}
Module({
  imports: [
    ClientsModule.register([{ name: EVENTS, customClass: RedisStreamsClient, options: { connection: REDIS_URL } }]),
  ],
  controllers: [OrdersHttpController, OrderStatusController],
  providers: [OrderStore],
})(OrderModule);

async function main() {
  const logger = new CompactLogger(SERVICE);
  const server = new RedisStreamsServer({ connection: REDIS_URL, group: SERVICE, consumer: consumerName(SERVICE), startId: '0' });
  const transport = instrumentTransport(server, metrics);
  const app = await NestFactory.create(OrderModule, { logger });
  app.connectMicroservice({ strategy: server });
  await app.startAllMicroservices();
  await app.listen(PORT);
  const metricsServer = await serveMetrics(metrics, { service: SERVICE, isHealthy: transport.isConnected });
  closeOnSignals(app, metricsServer, logger);
  announceReady({ service: SERVICE, httpPort: app.getHttpServer().address().port, metricsPort: metricsServer.address().port });
  logger.log(`ready: HTTP on :${app.getHttpServer().address().port}, metrics on :${metricsServer.address().port}`, 'Main');
}

main().catch(exitOnStartupError(new CompactLogger(SERVICE)));
