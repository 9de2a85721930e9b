#!/usr/bin/env node
// CPU per event of one transport consumer draining a backlog, measured in its own process from the first entry
// to the last (startup excluded), for A/B work on the consumer's hot path; optionally a CPU profile of the drain
// alone. The backlog is written first with emitMany(); the handler is the burst's (@Payload, @Ctx, empty).
// Usage: node bench/consumer-cpu.mjs --redis redis://127.0.0.1:7391 [--n 200000] [--rounds 3]
//        [--options '{"boundedReads":false}'] [--batch] [--profile FILE.cpuprofile] [--module path/to/transport/index.js]
// --batch: a batch handler (`{ batch: true }`, an array of payloads per call) instead of one call per event.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { makePad } from './lib/payload.mjs';
import { handlerModule } from './lib/systems.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const redisUrl = opt('redis', 'redis://127.0.0.1:6379');
const N = Number(opt('n', 200_000));
const ROUNDS = Number(opt('rounds', 3));
const extra = JSON.parse(opt('options', '{}'));
const profileFile = opt('profile', undefined);
const modulePath = opt('module', undefined);
const batch = args.includes('--batch');
const { RedisStreamsClient, RedisStreamsServer } = await import(modulePath ? pathToFileURL(modulePath).href : '@nestream/transport');

let handled = 0;
let onAllHandled = () => undefined;
const stream = `cpu-${process.pid}`;
// The burst's handler module (bench/lib/systems.mjs): @Payload() and @Ctx(), one call per event or per batch.
const DrainModule = await handlerModule(stream, () => {
  if (++handled === N) onAllHandled();
}, ctx => ctx.getDeliveryCount(), batch);

const redis = new Redis(redisUrl);
const client = new RedisStreamsClient({ connection: redisUrl });
await client.connect();

const pad = makePad(120, N);

async function round(r) {
  await redis.del(stream);
  const group = `g${r}`;
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  for (let i = 0; i < N; i += 1000) await client.emitMany(stream, Array.from({ length: 1000 }, (_, k) => ({ i: i + k, ts: 0, p: pad })));
  handled = 0;
  const allHandled = new Promise(resolve => (onAllHandled = resolve));
  const app = await NestFactory.createMicroservice(DrainModule, {
    strategy: new RedisStreamsServer({ connection: redisUrl, group, consumer: 'c1', ...extra }),
    logger: ['error', 'warn'],
  });
  const session = profileFile && r === ROUNDS - 1 ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await app.listen();
  await allHandled;
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - t0;
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
  }
  await app.close();
  return { us: (used.user + used.system) / N, sys: used.system / N, evs: N / (ms / 1000) };
}

const rounds = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(await round(r));
const us = rounds.map(x => x.us).sort((a, b) => a - b);
console.log(
  `consumer CPU µs/event: median ${us[Math.floor(us.length / 2)].toFixed(2)} (${us.map(x => x.toFixed(2)).join(', ')}); ` +
    `of it system ${rounds.map(x => x.sys.toFixed(2)).join(', ')}; ev/s ${rounds.map(x => Math.round(x.evs)).join(', ')}; N ${N}, ${batch ? 'batch handler, ' : ''}options ${JSON.stringify(extra)}`,
);
await redis.del(stream);
await client.close();
redis.disconnect();
