import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedisStreamsServer } from '@nestream/transport';
import { consumerName, ObservabilityModule, postgresOptions, ServiceEnvironment, validateEnvironment } from '@sample/common';
import { Account } from './account.entity.js';
import { AccountsController } from './accounts.controller.js';
import { AccountsService } from './accounts.service.js';

const GROUP = 'accounts';

/** Consumer group "accounts" on `user.registered` (connected in main.ts); HTTP `GET /accounts/:userId`. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment(ServiceEnvironment) }),
    TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => postgresOptions(config, { schema: 'accounts' }) }),
    TypeOrmModule.forFeature([Account]),
    ObservabilityModule,
  ],
  controllers: [AccountsController],
  providers: [
    AccountsService,
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
          // A new group reads the stream from its start: users registered before this service first ran get accounts too.
          startId: '0',
        }),
    },
  ],
})
export class AppModule {}
