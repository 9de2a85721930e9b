import { DynamicModule, Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { TerminusModule } from '@nestjs/terminus';
import { RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';
import { RedisStreamsHealthIndicator } from '@nestream/transport/health';
import { AppController } from './app.controller';
import { AppService } from './app.service';
import { HealthController } from './health.controller';
import { OrdersController } from './orders.controller';

@Module({})
export class AppModule {
  static register(redis: { host: string; port: number }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TerminusModule,
        // The shape of Nest's built-in Redis transport: host and port at the top level.
        ClientsModule.register([{ name: 'EVENTS', customClass: RedisStreamsClient, options: { host: redis.host, port: redis.port } }]),
      ],
      controllers: [AppController, HealthController, OrdersController],
      providers: [
        AppService,
        RedisStreamsHealthIndicator,
        { provide: RedisStreamsServer, useFactory: () => new RedisStreamsServer({ ...redis, group: 'orders-app' }) },
      ],
    };
  }
}
