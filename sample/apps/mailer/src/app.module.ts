import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedisStreamsServer } from '@nestream/transport';
import { consumerName, ObservabilityModule, postgresOptions, validateEnvironment } from '@sample/common';
import { MailService } from './mail.service.js';
import { MailerController } from './mailer.controller.js';
import { MailerEnvironment } from './mailer.environment.js';
import { SentMail } from './sent-mail.entity.js';

const GROUP = 'mailer';

/** Consumer group "mailer" on `user.registered` and `order.settled` (connected in main.ts). */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, validate: validateEnvironment(MailerEnvironment) }),
    TypeOrmModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => postgresOptions(config, { schema: 'mailer' }) }),
    TypeOrmModule.forFeature([SentMail]),
    ObservabilityModule,
  ],
  controllers: [MailerController],
  providers: [
    MailService,
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
          // A new group reads the streams from their start: nobody registered before the first deploy misses a mail.
          startId: '0',
          // SMTP servers refuse now and then (greylisting, rate limits): retry soon, a few times.
          retry: { maxAttempts: 5, backoff: { type: 'exponential', delayMs: 250, maxDelayMs: 5000 } },
        }),
    },
  ],
})
export class AppModule {}
