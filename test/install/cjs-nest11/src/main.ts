import { NestFactory } from '@nestjs/core';
import { RedisStreamsServer } from '@nestream/transport';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule.register({ host: process.env.REDIS_HOST ?? '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) }));
  app.connectMicroservice({ strategy: app.get(RedisStreamsServer) });
  await app.startAllMicroservices();
  await app.listen(process.env.PORT ?? 3000);
}
bootstrap();
