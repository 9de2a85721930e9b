import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { ClientProxy } from '@nestjs/microservices';
import * as esm from '@nestream/transport';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { AppModule } from './app.module.js';
import { OrdersController } from './orders.controller.js';

// The installed @nestream/transport in an ESM Nest 12 app: one event emitted and handled, /health up, and
// both builds loaded at once (the dual-package hazard) without breaking instanceof.

const port = await new Promise<number>((resolve, reject) => {
  const srv = createServer().on('error', reject);
  srv.listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as { port: number };
    srv.close(() => resolve(port));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve, reject) => {
  let out = '';
  redis.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('Ready to accept connections')) resolve();
  });
  redis.once('exit', code => reject(new Error(`redis-server exited with ${code}: ${out}`)));
});
const url = `redis://127.0.0.1:${port}`;
async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 25));
  }
}

try {
  assert.match(import.meta.resolve('@nestream/transport'), /dist\/esm\/index\.js$/);
  const cjs = createRequire(import.meta.url)('@nestream/transport') as typeof esm;
  assert.notEqual(cjs.RedisStreamsClient, esm.RedisStreamsClient, 'two copies loaded');
  assert.ok(new cjs.UnrecoverableEventError('x') instanceof esm.UnrecoverableEventError, 'instanceof across builds');
  assert.ok(new esm.InvalidOptionsError('a', 'b') instanceof cjs.InvalidOptionsError, 'instanceof across builds');
  assert.ok(!(new Error('x') instanceof esm.UnrecoverableEventError));

  // No logger: the poison entry below logs an expected error.
  const app = await NestFactory.create(AppModule.register(url), { logger: false });
  app.connectMicroservice({ strategy: app.get(esm.RedisStreamsServer) });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  try {
    const events = app.get<ClientProxy>('EVENTS');
    const id = await lastValueFrom(events.emit('orders.created', { id: 1 }));
    assert.match(String(id), /^\d+-\d+$/);
    const orders = app.get(OrdersController);
    await waitFor('the event handled', () => orders.handled.length > 0);
    assert.deepEqual(orders.handled, [{ order: { id: 1 }, stream: 'orders.created' }]);

    const res = await fetch(`${await app.getUrl()}/health`);
    const body = (await res.json()) as { status: string; info: { streams: { status: string } } };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.status, 'ok');
    assert.equal(body.info.streams.status, 'up');

    // An UnrecoverableEventError of the CommonJS copy, thrown at the ESM server: no retries.
    await lastValueFrom(events.emit('orders.poison', { id: 2 }));
    const probe = new Redis(url);
    try {
      await waitFor('the poison entry dead-lettered', async () => (await probe.xlen('orders.poison:dlq')) === 1);
      const [[, fields]] = (await probe.xrange('orders.poison:dlq', '-', '+')) as [string, string[]][];
      assert.equal(fields[fields.indexOf('dlq.reason') + 1], 'unrecoverable');
      assert.equal(fields[fields.indexOf('dlq.attempts') + 1], '1');
    } finally {
      probe.disconnect();
    }
    console.log('esm-nest12 smoke: event handled, /health up, instanceof across the ESM and CommonJS builds');
  } finally {
    await app.close();
  }
} finally {
  redis.kill('SIGKILL');
}
