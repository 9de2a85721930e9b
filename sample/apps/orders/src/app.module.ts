import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedisStreamsModule, RedisStreamsServer } from '@nestream/transport';
import { consumerName, ObservabilityModule, OutboxModule, postgresOptions, ServiceEnvironment, validateEnvironment } from '@sample/common';
import { OrderEventsController } from './order-events.controller.js';
import { Order } from './order.entity.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

const GROUP = 'orders';
/** Injection token of the RedisStreamsClient the outbox publishes with. */
const EVENTS = 'EVENTS';

/**
 * HTTP `POST /orders` (outbox publishes `order.placed`), and consumer group "orders" (connected in main.ts) on the
 * inventory's decisions and on `order.placed:dlq`; settling an order publishes `order.settled` the same way.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment(ServiceEnvironment) }),
    TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => postgresOptions(config, { schema: 'orders' }) }),
    TypeOrmModule.forFeature([Order]),
    RedisStreamsModule.forRootAsync(
      { name: EVENTS, inject: [ConfigService], useFactory: (config: ConfigService) => ({ connection: config.getOrThrow<string>('REDIS_URL'), metrics: true }) },
      { isGlobal: true },
    ),
    OutboxModule.forRoot({ client: EVENTS }),
    ObservabilityModule,
  ],
  controllers: [OrdersController, OrderEventsController],
  providers: [
    OrdersService,
    {
      provide: RedisStreamsServer,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        new RedisStreamsServer({
          connection: config.getOrThrow<string>('REDIS_URL'),
          // The transport's Prometheus metrics, on prom-client's default registry that /metrics serves.
          metrics: true,
          group: GROUP,
          consumer: consumerName(GROUP, config.get('CONSUMER_NAME')),
          startId: '0',
          retry: { maxAttempts: 5, backoff: { type: 'exponential', delayMs: 200, maxDelayMs: 5000 } },
        }),
    },
  ],
})
export class AppModule {}
