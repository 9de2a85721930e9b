import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy } from '@nestjs/microservices';
import { RedisStreamsClient, RedisStreamsServer, UnrecoverableEventError } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { AppModule } from './app.module';
import { OrdersController } from './orders.controller';

// The installed @nestream/transport in a CommonJS Nest 11 app: one event emitted and handled, /health up.

let redis: ChildProcess;
let app: INestApplication;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    redis.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    redis.once('exit', code => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  app = await NestFactory.create(AppModule.register({ host: '127.0.0.1', port }), { logger: ['error', 'warn'] });
  app.connectMicroservice({ strategy: app.get(RedisStreamsServer) });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
}, 30_000);

afterAll(async () => {
  await app?.close();
  redis?.kill('SIGKILL');
});

it('loads the CommonJS build', () => {
  expect(require.resolve('@nestream/transport')).toMatch(/dist[\\/]cjs[\\/]index\.js$/);
  expect(new UnrecoverableEventError('x')).toBeInstanceOf(Error);
});

it('emits one event through the injected client and handles it', async () => {
  const events = app.get<ClientProxy>('EVENTS');
  expect(events).toBeInstanceOf(RedisStreamsClient);
  const id = await lastValueFrom(events.emit('orders.created', { id: 1 }));
  expect(id).toMatch(/^\d+-\d+$/);
  const orders = app.get(OrdersController);
  for (let i = 0; i < 200 && orders.handled.length === 0; i++) await new Promise(r => setTimeout(r, 25));
  expect(orders.handled).toEqual([{ order: { id: 1 }, stream: 'orders.created' }]);
}, 15_000);

it('reports the transport up on /health (Terminus, indicator injected)', async () => {
  const res = await fetch(`${await app.getUrl()}/health`);
  const body = await res.json();
  expect({ status: res.status, body }).toMatchObject({ status: 200, body: { status: 'ok', info: { streams: { status: 'up' } } } });
}, 15_000);
