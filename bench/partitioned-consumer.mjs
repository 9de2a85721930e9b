// A consumer process of the partitioned scenario (bench/partitioned.mjs): the transport with
// `@EventPattern(pattern, { partitions, ordered })` on a Redis Cluster, or raw ioredis reading the same partition
// streams (one blocking XREADGROUP connection per partition, batch XACK). Started with fork(); config as argv[2].
// Tells the runner `ready`, then answers `report` with what its handler saw: events, duplicates, per-key order.
import 'reflect-metadata';
import { Cluster } from 'ioredis';

const cfg = JSON.parse(process.argv[2]);
const seen = new Set();
const lastSeqOfKey = new Map();
let duplicates = 0;
let orderViolations = 0;
let firstAt = 0;
let lastAt = 0;

/** One handled event `{ i, k, s }`: event number, partition key, sequence number within the key. */
function handle(event) {
  const now = performance.timeOrigin + performance.now();
  if (firstAt === 0) firstAt = now;
  if (seen.has(event.i)) {
    duplicates++;
    return;
  }
  seen.add(event.i);
  lastAt = now;
  // Going backwards within a key breaks the order promise (a repeat of the same entry does not).
  const last = lastSeqOfKey.get(event.k) ?? -1;
  if (event.s < last) orderViolations++;
  else lastSeqOfKey.set(event.k, event.s);
}

// A handler that takes handlerMs (a timer, like a call to another service), or returns at once.
// How long those waits really took (a timer fires late on a busy machine): the ceiling of an ordered partition.
let workMs = 0;
let works = 0;
const work = cfg.handlerMs > 0
  ? () => {
      const t0 = performance.now();
      return new Promise(resolve => setTimeout(resolve, cfg.handlerMs)).then(() => {
        workMs += performance.now() - t0;
        works++;
      });
    }
  : undefined;

const close = cfg.system === 'raw' ? await rawConsumer() : await transportConsumer();

process.on('message', async message => {
  if (message.type === 'report') {
    process.send({ type: 'report', handled: seen.size, duplicates, orderViolations, firstAt, lastAt, workMs, works, ids: message.ids ? [...seen] : [] });
  }
  if (message.type === 'stop') {
    await close();
    process.send({ type: 'stopped' });
    process.exit(0);
  }
});
process.send({ type: 'ready' });

async function transportConsumer() {
  const { Controller, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { EventPattern } = await import('@nestjs/microservices');
  const { RedisStreamsServer } = await import('@nestream/transport');
  class Handler {
    async onEvent(event) {
      if (work) await work();
      handle(event);
    }
  }
  EventPattern(cfg.pattern, { partitions: cfg.partitions, ordered: cfg.ordered, ...(cfg.ackBatch ? { ackBatch: cfg.ackBatch } : {}) })(Handler.prototype, 'onEvent', Object.getOwnPropertyDescriptor(Handler.prototype, 'onEvent'));
  Controller()(Handler);
  class AppModule {}
  Module({ controllers: [Handler] })(AppModule);
  const app = await NestFactory.createMicroservice(AppModule, {
    strategy: new RedisStreamsServer({
      connection: { type: 'cluster', nodes: cfg.nodes },
      group: cfg.group,
      consumer: cfg.consumer,
      startId: '0',
      // Ordered partitions are shared out by leases renewed at this interval: a consumer joining later gets its
      // share within about one interval.
      claim: { intervalMs: 500, minIdleMs: 5000 },
    }),
    logger: ['error', 'warn'],
  });
  await app.listen();
  return () => app.close();
}

async function rawConsumer() {
  const streams = Array.from({ length: cfg.partitions }, (_, i) => `${cfg.pattern}:{${i}}`);
  const admin = new Cluster(cfg.nodes);
  for (const stream of streams) {
    await admin.xgroup('CREATE', stream, cfg.group, '0', 'MKSTREAM').catch(err => {
      if (!String(err.message).startsWith('BUSYGROUP')) throw err;
    });
  }
  let running = true;
  // A blocked XREADGROUP holds its connection: one per partition.
  const readers = streams.map(() => new Cluster(cfg.nodes));
  const loops = streams.map(async (stream, p) => {
    const reader = readers[p];
    while (running) {
      const reply = await reader.xreadgroup('GROUP', cfg.group, cfg.consumer, 'COUNT', 500, 'BLOCK', 500, 'STREAMS', stream, '>').catch(() => null);
      if (!reply) continue;
      const ids = [];
      for (const [id, fields] of reply[0][1]) {
        ids.push(id);
        if (work) await work();
        handle(JSON.parse(fields[fields.indexOf('data') + 1]));
      }
      if (ids.length > 0) admin.xack(stream, cfg.group, ...ids).catch(() => undefined);
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    for (const r of readers) r.disconnect();
    admin.disconnect();
  };
}
