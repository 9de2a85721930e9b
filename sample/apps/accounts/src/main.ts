import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { RedisStreamsServer } from '@nestream/transport';
import { announceReady, describeValidationErrors, ServiceLogger } from '@sample/common';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: new ServiceLogger('accounts') });
  app.enableShutdownHooks();
  // Validates HTTP bodies and, through inheritAppConfig, event payloads: an invalid event is dead-lettered at once.
  app.useGlobalPipes(new ValidationPipe({ transform: true, exceptionFactory: describeValidationErrors }));
  app.connectMicroservice({ strategy: app.get(RedisStreamsServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(app.get(ConfigService).getOrThrow<number>('PORT'));
  announceReady(app, 'accounts');
}

void bootstrap();
