import { type DynamicModule, Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { TerminusModule } from '@nestjs/terminus';
import { RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';
import { RedisStreamsHealthIndicator } from '@nestream/transport/health';
import { HealthController } from './health.controller.js';
import { OrdersController } from './orders.controller.js';

@Module({})
export class AppModule {
  static register(redisUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TerminusModule,
        ClientsModule.register([{ name: 'EVENTS', customClass: RedisStreamsClient, options: { connection: redisUrl } }]),
      ],
      controllers: [HealthController, OrdersController],
      providers: [
        RedisStreamsHealthIndicator,
        { provide: RedisStreamsServer, useFactory: () => new RedisStreamsServer({ connection: redisUrl, group: 'orders-app' }) },
      ],
    };
  }
}
