import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedisStreamsModule, RedisStreamsServer } from '@nestream/transport';
import { consumerName, ObservabilityModule, postgresOptions, validateEnvironment } from '@sample/common';
import { EVENTS } from './events.js';
import { InventoryController } from './inventory.controller.js';
import { InventoryEnvironment } from './inventory.environment.js';
import { Reservation } from './reservation.entity.js';
import { StockItem } from './stock-item.entity.js';
import { StockService } from './stock.service.js';

const GROUP = 'inventory';

/** Consumer group "inventory" on `order.placed` (connected in main.ts); publishes its decisions with EVENTS. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment(InventoryEnvironment) }),
    TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => postgresOptions(config, { schema: 'inventory' }) }),
    TypeOrmModule.forFeature([StockItem, Reservation]),
    RedisStreamsModule.forRootAsync({
      name: EVENTS,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({ connection: config.getOrThrow<string>('REDIS_URL'), metrics: true }),
    }),
    ObservabilityModule,
  ],
  controllers: [InventoryController],
  providers: [
    StockService,
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
          // An offline warehouse gets 5 deliveries 100, 200, 400, 800 ms apart, then the order is dead-lettered.
          retry: { maxAttempts: 5, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 2000 } },
          // A replica that crashed has its orders taken over by the other after 10 s (unless it comes back first).
          claim: { minIdleMs: 10_000, intervalMs: 2_000 },
        }),
    },
  ],
})
export class AppModule {}
