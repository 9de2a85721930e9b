import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { announceReady, describeValidationErrors, ServiceLogger } from '@sample/common';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: new ServiceLogger('users') });
  app.enableShutdownHooks();
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true, exceptionFactory: describeValidationErrors }));
  await app.listen(app.get(ConfigService).getOrThrow<number>('PORT'));
  announceReady(app, 'users');
}

void bootstrap();
