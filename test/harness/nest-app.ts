import 'reflect-metadata';
import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { RedisStreamsServer, type RedisStreamsServerOptions } from '@nestream/transport';

export interface TestApp {
  app: INestMicroservice;
  server: RedisStreamsServer;
  close(): Promise<void>;
}

/** Starts a Nest microservice with the given controllers (and providers) on a RedisStreamsServer. */
export async function startApp(
  controllers: Type<unknown>[],
  options: RedisStreamsServerOptions | RedisStreamsServer,
  providers: unknown[] = [],
): Promise<TestApp> {
  @Module({ controllers, providers: providers as never[] })
  class TestModule {}
  const server = options instanceof RedisStreamsServer ? options : new RedisStreamsServer(options);
  const app = await NestFactory.createMicroservice(TestModule, { strategy: server, logger: process.env.NESTREAM_TEST_LOG ? ['error', 'warn', 'log'] : false });
  await app.listen();
  let closed = false;
  return {
    app,
    server,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
