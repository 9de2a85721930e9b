// The systems under comparison. Each has a producer (sendBatch) and a consumer (calls `handle(data, attempt)`
// once per delivery; a throw means "failed, retry later" where the system supports retries).
// Everything is loaded lazily so a child process only imports what its system needs.
import 'reflect-metadata';

/** The systems, in table order. `stream: true` = entries live in a Redis stream with a consumer group. */
export const SYSTEMS = {
  raw: {
    title: 'raw ioredis (XADD pipeline / XREADGROUP / XACK batch)',
    stream: true,
    fanout: true,
    retry: true,
    backlog: true,
  },
  transport: {
    title: '@nestream/transport, default options, client.emit()',
    stream: true,
    fanout: true,
    retry: true,
    backlog: true,
  },
  'transport-metrics': {
    title: '@nestream/transport, default options, client.emit(), metrics: true on client and server (scraped every second)',
    stream: true,
    fanout: true,
    retry: true,
    backlog: true,
  },
  'transport-unbounded': {
    title: '@nestream/transport, default options but boundedReads: false (plain XREADGROUP), client.emit()',
    stream: true,
    fanout: false,
    retry: false,
    backlog: false,
  },
  'transport-retention': {
    title: '@nestream/transport, default options plus retention { maxLen: 10000, intervalMs: 1000 } (the trimmer every second), client.emit()',
    stream: true,
    fanout: false,
    retry: false,
    backlog: false,
  },
  'transport-tuned': {
    title: '@nestream/transport, concurrency 512 / readBatchSize 512, client.emit()',
    stream: true,
    fanout: true,
    retry: true,
    backlog: true,
  },
  'transport-bulk': {
    title: '@nestream/transport, default options, client.emitMany() + batch handler',
    stream: true,
    fanout: true,
    retry: false,
    backlog: false,
  },
  'transport-bulk-tuned': {
    title: '@nestream/transport, concurrency 512 / readBatchSize 512, client.emitMany() + batch handler',
    stream: true,
    fanout: true,
    retry: false,
    backlog: false,
  },
  'raw-wait': {
    title: 'raw ioredis, XADD pipeline + WAIT 1 1000 per batch / XREADGROUP / XACK batch (durable scenario)',
    stream: true,
    fanout: false,
    retry: false,
    backlog: false,
  },
  'transport-durable': {
    title: '@nestream/transport, client.emit() with durability { replicas: 1, timeoutMs: 1000 } (durable scenario)',
    stream: true,
    fanout: false,
    retry: false,
    backlog: false,
  },
  'transport-bulk-durable': {
    title: '@nestream/transport, client.emitMany() with durability { replicas: 1, timeoutMs: 1000 } + batch handler (durable scenario)',
    stream: true,
    fanout: false,
    retry: false,
    backlog: false,
  },
  'nest-redis': {
    title: 'NestJS Transport.REDIS (pub/sub, no ack), client.emit()',
    stream: false,
    fanout: true,
    retry: false,
    backlog: false,
    competing: false, // every subscriber gets every message: no "N consumers in one group"
  },
  bullmq: {
    title: 'BullMQ Queue.addBulk() / Worker (concurrency 32, removeOnComplete)',
    stream: false,
    fanout: false,
    retry: true,
    backlog: false,
  },
};

export const TUNED_SERVER_OPTIONS = { concurrency: 512, readBatchSize: 512 };
/** The durable scenario's setting: one replica must confirm, within 1 s. */
export const DURABILITY = { replicas: 1, timeoutMs: 1000 };
const BULL_CONCURRENCY = 32;
const RAW_READ_COUNT = 1000;

export function redisHostPort(url) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

// ---------------------------------------------------------------------------------------------------------
// Producers: { sendBatch(events: object[]): Promise<void>, close(): Promise<void> }
// ---------------------------------------------------------------------------------------------------------

/** Safe retention as a busy service would set it, trimming often: what the trimmer costs the consumer. */
const RETENTION = { maxLen: 10_000, intervalMs: 1000 };

export async function createProducer(cfg) {
  switch (cfg.system) {
    case 'raw':
      return rawProducer(cfg);
    case 'raw-wait':
      return rawProducer(cfg, DURABILITY);
    case 'transport-durable':
      return transportProducer(cfg, false, { durability: DURABILITY });
    case 'transport-bulk-durable':
      return transportProducer(cfg, true, { durability: DURABILITY });
    case 'transport':
    case 'transport-tuned':
    case 'transport-unbounded':
    case 'transport-retention':
      return transportProducer(cfg, false);
    case 'transport-metrics':
      return transportProducer(cfg, false, { metrics: true });
    case 'transport-bulk':
    case 'transport-bulk-tuned':
      return transportProducer(cfg, true);
    case 'nest-redis':
      return nestRedisProducer(cfg);
    case 'bullmq':
      return bullProducer(cfg);
    default:
      throw new Error(`unknown system ${cfg.system}`);
  }
}

/** With `durability`, each batch's pipeline ends with WAIT, which must count enough replicas. */
async function rawProducer(cfg, durability) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(cfg.redisUrl);
  await redis.ping();
  return {
    async sendBatch(events) {
      const p = redis.pipeline();
      for (const e of events) p.xadd(cfg.key, '*', 'data', JSON.stringify(e));
      if (durability) p.wait(durability.replicas, durability.timeoutMs);
      const res = await p.exec();
      for (const [err] of res) if (err) throw err;
      if (durability && res.at(-1)[1] < durability.replicas) throw new Error(`WAIT counted ${res.at(-1)[1]} replicas`);
    },
    async close() {
      await redis.quit();
    },
  };
}

async function transportProducer(cfg, bulk, extra = {}) {
  const { RedisStreamsClient } = await import('@nestream/transport');
  const { lastValueFrom } = await import('rxjs');
  const client = new RedisStreamsClient({ connection: cfg.redisUrl, ...extra });
  const stopScraping = extra.metrics ? await scrapeEverySecond() : () => undefined;
  await client.connect();
  await client.unwrap().ping();
  return {
    sendBatch: bulk
      ? async events => {
          await client.emitMany(cfg.key, events);
        }
      : async events => {
          await Promise.all(events.map(e => lastValueFrom(client.emit(cfg.key, e))));
        },
    async close() {
      stopScraping();
      await client.close();
    },
  };
}

/** What a Prometheus scraping the process every second costs it (more often than the usual 15 s). */
async function scrapeEverySecond() {
  const { register } = await import('prom-client');
  const timer = setInterval(() => void register.metrics(), 1000);
  return () => clearInterval(timer);
}

async function nestRedisProducer(cfg) {
  const { ClientRedis } = await import('@nestjs/microservices');
  const { lastValueFrom } = await import('rxjs');
  const client = new ClientRedis(redisHostPort(cfg.redisUrl));
  await client.connect();
  return {
    async sendBatch(events) {
      await Promise.all(events.map(e => lastValueFrom(client.emit(cfg.key, e), { defaultValue: undefined })));
    },
    async close() {
      await client.close();
    },
  };
}

function bullJobOptions(cfg) {
  const opts = { removeOnComplete: true, removeOnFail: true };
  if (cfg.fail) Object.assign(opts, { attempts: 2, backoff: { type: 'fixed', delay: cfg.retryDelayMs } });
  return opts;
}

async function bullProducer(cfg) {
  const { Queue } = await import('bullmq');
  const queue = new Queue(cfg.key, { connection: redisHostPort(cfg.redisUrl) });
  await queue.waitUntilReady();
  const opts = bullJobOptions(cfg);
  return {
    async sendBatch(events) {
      await queue.addBulk(events.map(data => ({ name: 'e', data, opts })));
    },
    async close() {
      await queue.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Consumers: createConsumer(cfg, handle) -> { close(): Promise<void> }, ready to receive when it resolves.
// ---------------------------------------------------------------------------------------------------------

export async function createConsumer(cfg, handle) {
  switch (cfg.system) {
    case 'raw':
    case 'raw-wait':
      return rawConsumer(cfg, handle);
    case 'transport':
    case 'transport-durable':
      return transportConsumer(cfg, handle, {});
    case 'transport-bulk-durable':
      return transportConsumer(cfg, handle, {}, true);
    case 'transport-bulk':
      return transportConsumer(cfg, handle, {}, true);
    case 'transport-tuned':
      return transportConsumer(cfg, handle, TUNED_SERVER_OPTIONS);
    case 'transport-metrics':
      return transportConsumer(cfg, handle, { metrics: true });
    case 'transport-unbounded':
      return transportConsumer(cfg, handle, { boundedReads: false });
    case 'transport-retention':
      return transportConsumer(cfg, handle, { retention: RETENTION });
    case 'transport-bulk-tuned':
      return transportConsumer(cfg, handle, TUNED_SERVER_OPTIONS, true);
    case 'nest-redis':
      return nestRedisConsumer(cfg, handle);
    case 'bullmq':
      return bullConsumer(cfg, handle);
    default:
      throw new Error(`unknown system ${cfg.system}`);
  }
}

/**
 * The practical limit for Node: one connection, XREADGROUP COUNT 1000 BLOCK, handle the batch synchronously,
 * one XACK for the batch (not awaited: queued on the same connection before the next read).
 * Retries (retry scenario): a failed entry is left pending; after retryDelayMs the consumer re-reads its own
 * pending list (XREADGROUP ... 0), which redelivers it.
 */
async function rawConsumer(cfg, handle) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: null });
  try {
    await redis.xgroup('CREATE', cfg.key, cfg.group, cfg.startId ?? '$', 'MKSTREAM');
  } catch (err) {
    if (!String(err.message).startsWith('BUSYGROUP')) throw err;
  }
  let running = true;
  let retryAt = 0; // > 0: failed entries wait in our pending list
  const acks = new Set();
  const loop = (async () => {
    while (running) {
      const now = Date.now();
      const pendingRead = retryAt > 0 && now >= retryAt;
      const block = retryAt > 0 ? Math.max(1, Math.min(1000, retryAt - now)) : 1000;
      const args = pendingRead
        ? ['GROUP', cfg.group, cfg.consumer, 'COUNT', RAW_READ_COUNT, 'STREAMS', cfg.key, '0']
        : ['GROUP', cfg.group, cfg.consumer, 'COUNT', RAW_READ_COUNT, 'BLOCK', block, 'STREAMS', cfg.key, '>'];
      let reply;
      try {
        reply = await redis.xreadgroup(...args);
      } catch (err) {
        if (!running) break;
        throw err;
      }
      if (pendingRead) retryAt = 0;
      if (!reply) continue;
      const ids = [];
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          if (!fields) {
            ids.push(id);
            continue;
          }
          let data;
          for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'data') data = JSON.parse(fields[i + 1]);
          try {
            handle(data, pendingRead ? 2 : 1);
            ids.push(id);
          } catch {
            if (retryAt === 0) retryAt = Date.now() + cfg.retryDelayMs;
          }
        }
      }
      if (ids.length > 0) {
        const p = redis.xack(cfg.key, cfg.group, ...ids).catch(err => console.error('XACK failed', err));
        acks.add(p);
        p.finally(() => acks.delete(p));
      }
    }
  })();
  loop.catch(err => {
    console.error('raw consumer loop failed', err);
    process.exit(3);
  });
  return {
    async close() {
      running = false;
      await Promise.all(acks);
      redis.disconnect();
      await loop.catch(() => undefined);
    },
  };
}

/** Builds a Nest module with one @EventPattern(pattern) handler, applying the decorators by hand (.mjs has no decorator syntax). */
/**
 * A Nest module with one controller whose @EventPattern(pattern) method calls `handle(data, attempt)` per event
 * (with `batch`, a `{ batch: true }` handler calling it for each payload of the array).
 */
export async function handlerModule(pattern, handle, attemptOf, batch = false) {
  const { Controller, Module } = await import('@nestjs/common');
  const { EventPattern, Payload, Ctx } = await import('@nestjs/microservices');
  class BenchHandler {
    // handle(@Payload() data, @Ctx() ctx): without parameter decorators Nest passes the payload only.
    handle(data, ctx) {
      if (!batch) return handle(data, attemptOf(ctx));
      // Batch handler: an array of payloads; a failing one is marked, the others are acked.
      const entries = ctx.getEntries();
      for (let i = 0; i < data.length; i++) {
        try {
          handle(data[i], entries[i].deliveryCount);
        } catch (err) {
          ctx.fail(i, err);
        }
      }
    }
  }
  Payload()(BenchHandler.prototype, 'handle', 0);
  Ctx()(BenchHandler.prototype, 'handle', 1);
  EventPattern(pattern, batch ? { batch: true } : undefined)(
    BenchHandler.prototype, 'handle', Object.getOwnPropertyDescriptor(BenchHandler.prototype, 'handle'),
  );
  Controller()(BenchHandler);
  class BenchModule {}
  Module({ controllers: [BenchHandler] })(BenchModule);
  return BenchModule;
}

async function transportConsumer(cfg, handle, tuned, batch = false) {
  const { NestFactory } = await import('@nestjs/core');
  const { RedisStreamsServer } = await import('@nestream/transport');
  const module = await handlerModule(cfg.key, handle, ctx => ctx.getDeliveryCount(), batch);
  const options = {
    connection: cfg.redisUrl,
    group: cfg.group,
    consumer: cfg.consumer,
    ...(cfg.startId ? { startId: cfg.startId } : {}),
    ...tuned,
    // Diagnostics: extra server options for every transport consumer of a run, e.g. '{"concurrency":64}'.
    ...(process.env.BENCH_TRANSPORT_OPTIONS ? JSON.parse(process.env.BENCH_TRANSPORT_OPTIONS) : {}),
    ...(cfg.fail ? { retry: { backoff: { delayMs: cfg.retryDelayMs } } } : {}),
  };
  const app = await NestFactory.createMicroservice(module, {
    strategy: new RedisStreamsServer(options),
    logger: ['error', 'warn'],
  });
  await app.listen();
  const stopScraping = options.metrics ? await scrapeEverySecond() : () => undefined;
  return {
    async close() {
      stopScraping();
      await app.close();
    },
  };
}

async function nestRedisConsumer(cfg, handle) {
  const { NestFactory } = await import('@nestjs/core');
  const { Transport } = await import('@nestjs/microservices');
  const module = await handlerModule(cfg.key, handle, () => 1);
  const app = await NestFactory.createMicroservice(module, {
    transport: Transport.REDIS,
    options: redisHostPort(cfg.redisUrl),
    logger: ['error', 'warn'],
  });
  await app.listen();
  return { close: () => app.close() };
}

async function bullConsumer(cfg, handle) {
  const { Worker } = await import('bullmq');
  const worker = new Worker(cfg.key, async job => handle(job.data, job.attemptsMade + 1), {
    connection: { ...redisHostPort(cfg.redisUrl), maxRetriesPerRequest: null },
    concurrency: BULL_CONCURRENCY,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
  });
  worker.on('error', err => console.error('bullmq worker error', err));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
