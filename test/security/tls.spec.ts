import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { RedisStreamsClient, RedisStreamsServer, type ConnectionOptions } from '@nestream/transport';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { startTlsRedis, type TlsRedis } from '../harness/tls-redis.js';
import { uniqueName, waitFor } from '../harness/wait.js';

/**
 * TLS against a redis-server that has no plain-text port (`--port 0 --tls-port n`), with a CA and a server
 * certificate made by the test: the transport works over `rediss://` and over the `tls` option, and a
 * certificate the client must refuse (unknown CA, wrong host name) fails listen() and connect() at once with
 * an error that says so, instead of a start that retries in the background.
 */
let redis: TlsRedis;
const apps: TestApp[] = [];
const clients: RedisStreamsClient[] = [];

beforeAll(async () => {
  redis = await startTlsRedis();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map(a => a.close()));
  await Promise.all(clients.splice(0).map(c => c.close()));
});
afterAll(async () => {
  await redis?.stop();
});

function client(connection: ConnectionOptions): RedisStreamsClient {
  const c = new RedisStreamsClient({ connection, requestTimeoutMs: 10_000 });
  clients.push(c);
  return c;
}

async function roundTrip(connection: ConnectionOptions): Promise<void> {
  const pattern = uniqueName('tls');
  const seen: unknown[] = [];
  @Controller()
  class Handlers {
    @EventPattern(`${pattern}.event`)
    event(@Payload() data: unknown) {
      seen.push(data);
    }

    @MessagePattern(`${pattern}.echo`)
    echo(@Payload() data: unknown) {
      return data;
    }
  }
  apps.push(await startApp([Handlers], { connection, group: 'g' }));
  const c = client(connection);
  await lastValueFrom(c.emit(`${pattern}.event`, { over: 'tls' }));
  await waitFor(() => seen.length === 1, 'the event handled over TLS');
  expect(seen).toEqual([{ over: 'tls' }]);
  await expect(firstValueFrom(c.send(`${pattern}.echo`, 'hello'))).resolves.toBe('hello');
}

/** listen() of a microservice expected to fail at start-up: its error (the app closed). */
async function failingListen(connection: ConnectionOptions): Promise<Error> {
  @Controller()
  class Handler {
    @EventPattern(uniqueName('tls-fail'))
    handle() {}
  }
  @Module({ controllers: [Handler] })
  class FailingModule {}
  const app = await NestFactory.createMicroservice(FailingModule, { strategy: new RedisStreamsServer({ connection, group: 'g' }), logger: false });
  const error = await app.listen().then(
    () => new Error('listen() resolved'),
    (err: Error) => err,
  );
  await app.close();
  return error;
}

describe('TLS', () => {
  it('works over a rediss:// URL with the CA given as tls.ca', async () => {
    await roundTrip({ url: redis.url, tls: { ca: redis.ca } });
  });

  it('works with the tls option of ioredis (host, port, tls)', async () => {
    await roundTrip({ host: '127.0.0.1', port: redis.port, tls: { ca: redis.ca } });
  });

  it('fails many starts in a row without an uncaught error from the refused sockets', async () => {
    // A refused handshake can make a TLS socket emit a second error after ioredis stopped listening (ioredis
    // #961); uncaught, it would crash the process. Jest fails the test on an uncaught error.
    for (let i = 0; i < 25; i++) {
      expect((await failingListen(redis.url)).message).toMatch(/certificate was refused/);
      const c = new RedisStreamsClient({ connection: redis.url });
      await expect(c.connect()).rejects.toThrow(/certificate was refused/);
      await c.close();
    }
  });

  describe.each([
    ['a server certificate from an unknown CA', () => redis.url, /TLS: the Redis server's certificate was refused \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/],
    ['a certificate for another host name', () => ({ host: '127.0.0.1', port: redis.port, tls: { ca: redis.ca, servername: 'redis.example.com' } }), /TLS: the Redis server's certificate was refused \(ERR_TLS_CERT_ALTNAME_INVALID/],
  ] as Array<[string, () => ConnectionOptions, RegExp]>)('%s', (_, connection, message) => {
    it('fails listen() at once, saying the certificate was refused', async () => {
      const error = await failingListen(connection());
      expect(error.message).toMatch(/^RedisStreamsServer could not start: /);
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/check connection\.tls/);
    });

    it('fails connect() at once, and the first emit with the same error', async () => {
      const c = client(connection());
      await expect(c.connect()).rejects.toThrow(message);
      await expect(lastValueFrom(c.emit('anything', 1))).rejects.toThrow(/^RedisStreamsClient could not connect: TLS/);
    });
  });
});
