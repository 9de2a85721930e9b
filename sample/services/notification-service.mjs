// Notification service: consumes `inventory.reserved` and `inventory.rejected` (consumer group
// "notification") and "sends" one message per order: here, a log line.
import { Controller, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamsServer } from '@nestream/transport';
import {
  CompactLogger, Metrics, REDIS_URL, closeOnSignals, consumerName, decorateMethod, decorateParams,
  announceReady, exitOnStartupError, instrumentTransport, serveMetrics,
} from './common.mjs';

const SERVICE = 'notification';
const metrics = new Metrics();
const sent = metrics.counter('sample_notifications_sent_total', 'Notifications sent, by kind (confirmed or rejected).');

class NotificationController {
  constructor() {
    this.logger = new Logger('Notify');
  }

  /** @EventPattern('inventory.reserved') onReserved(@Payload() event, @Ctx() ctx) */
  onReserved(event, ctx) {
    sent.inc({ kind: 'confirmed' });
    this.logger.log(`to ${event.customer}: order ${event.orderId} confirmed, ${event.quantity} x ${event.sku} (entry ${ctx.getMessageId()})`);
  }

  /** @EventPattern('inventory.rejected') onRejected(@Payload() event, @Ctx() ctx) */
  onRejected(event, ctx) {
    sent.inc({ kind: 'rejected' });
    this.logger.log(`to ${event.customer}: sorry, order ${event.orderId} could not be fulfilled: ${event.reason} (entry ${ctx.getMessageId()})`);
  }
}
Controller()(NotificationController);
decorateMethod(NotificationController, 'onReserved', EventPattern('inventory.reserved'));
decorateParams(NotificationController, 'onReserved', Payload(), Ctx());
decorateMethod(NotificationController, 'onRejected', EventPattern('inventory.rejected'));
decorateParams(NotificationController, 'onRejected', Payload(), Ctx());

class NotificationModule {}
Module({ controllers: [NotificationController] })(NotificationModule);

async function main() {
  const logger = new CompactLogger(SERVICE);
  const server = new RedisStreamsServer({ connection: REDIS_URL, group: SERVICE, consumer: consumerName(SERVICE), startId: '0' });
  const transport = instrumentTransport(server, metrics);
  const app = await NestFactory.createMicroservice(NotificationModule, { strategy: server, logger });
  await app.listen();
  const metricsServer = await serveMetrics(metrics, { service: SERVICE, isHealthy: transport.isConnected });
  closeOnSignals(app, metricsServer, logger);
  announceReady({ service: SERVICE, metricsPort: metricsServer.address().port });
  logger.log(`ready: consuming inventory.reserved and inventory.rejected as group "${SERVICE}", metrics on :${metricsServer.address().port}`, 'Main');
}

main().catch(exitOnStartupError(new CompactLogger(SERVICE)));
