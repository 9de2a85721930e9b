import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedisStreamsModule } from '@nestream/transport';
import { ObservabilityModule, OutboxModule, postgresOptions, ServiceEnvironment, validateEnvironment } from '@sample/common';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

/** Injection token of the RedisStreamsClient the outbox publishes with. */
const EVENTS = 'EVENTS';

/** HTTP only: `POST /users` stores a user; its outbox publishes `user.registered`. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment(ServiceEnvironment) }),
    TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => postgresOptions(config, { schema: 'users' }) }),
    TypeOrmModule.forFeature([User]),
    RedisStreamsModule.forRootAsync(
      { name: EVENTS, inject: [ConfigService], useFactory: (config: ConfigService) => ({ connection: config.getOrThrow<string>('REDIS_URL'), metrics: true }) },
      { isGlobal: true },
    ),
    OutboxModule.forRoot({ client: EVENTS }),
    ObservabilityModule,
  ],
  controllers: [UsersController],
  providers: [UsersService],
})
export class AppModule {}
