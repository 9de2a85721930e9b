import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamsServer, type RedisStreamsClient, type RetentionEvent, type RedisStreamsServerOptions } from '@nestream/transport';
import { Registry } from 'prom-client';
import { useRedis } from '../harness/fixture.js';
import { metricValue } from '../observability/metric-values.js';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

/** A service of `group` on `pattern` that counts what it handled (`{ n }` payloads), with its retention events. */
async function startService(pattern: string, group: string, options: Partial<RedisStreamsServerOptions> = {}, extras: object = {}) {
  const seen = new Set<number>();
  const events: RetentionEvent[] = [];
  @Controller()
  class Service {
    @EventPattern<string>(pattern, extras)
    handle(@Payload() event: { n: number }) {
      seen.add(event.n);
    }
  }
  const server = new RedisStreamsServer({ connection: fx.redis.url, group, consumer: `${group}-1`, startId: '0', claim: { intervalMs: 100 }, ...options });
  server.on('retention', event => events.push(event));
  const app: TestApp = await startApp([Service], server);
  fx.apps.push(app);
  return { seen, events, app };
}

/** Emits `{ n }` for n in [from, to) in batches, as a busy producer would. */
async function emitRange(client: RedisStreamsClient, pattern: string, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 500) {
    const batch = Array.from({ length: Math.min(500, to - start) }, (_, k) => ({ n: start + k }));
    await client.emitMany(pattern, batch);
  }
}

const RETENTION = { maxLen: 100, intervalMs: 100 };

describe('safe retention', () => {
  it('keeps every entry a stopped group has not read, then trims once it has caught up: 0 lost', async () => {
    const pattern = uniqueName('orders');
    const redis = fx.redis.client();
    // Group shipping exists (created at the start) but its service is stopped.
    await redis.xgroup('CREATE', pattern, 'shipping', '0', 'MKSTREAM');
    const billing = await startService(pattern, 'billing', { retention: RETENTION });
    await emitRange(fx.client(), pattern, 0, 3000);
    await waitFor(() => billing.seen.size === 3000, 'billing to handle all 3000');
    // Billing trims at every round; shipping, which read nothing, holds the stream back: nothing goes.
    await waitFor(async () => (await fx.pending(pattern, 'billing')) === 0, 'billing to ack everything');
    const acked = billing.events.length;
    await waitFor(() => billing.events.length > acked + 1, 'two retention rounds after billing acked everything');
    expect(billing.events.slice(acked)).toContainEqual({ stream: pattern, trimmed: 0, hardTrimmed: 0, droppedUnread: false, floorId: '0-0', heldBackBy: 'shipping', length: 3000 });
    expect(await redis.xlen(pattern)).toBe(3000);

    // Shipping comes back: it gets every one of the 3000, and only then does the stream shrink.
    const shipping = await startService(pattern, 'shipping', { retention: RETENTION });
    await waitFor(() => shipping.seen.size === 3000, 'shipping to handle all 3000 (none trimmed before it read them)');
    await waitFor(() => [...billing.events, ...shipping.events].some(e => e.length <= 200), 'retention to trim to about maxLen once both groups have read everything');
    const trimmed = [...billing.events, ...shipping.events];
    expect(trimmed.every(e => !e.droppedUnread && e.hardTrimmed === 0)).toBe(true);
    expect(await redis.xlen(pattern)).toBeGreaterThanOrEqual(100);
  });

  it('says which group holds the stream back', async () => {
    const pattern = uniqueName('orders');
    const redis = fx.redis.client();
    await redis.xgroup('CREATE', pattern, 'laggard', '0', 'MKSTREAM');
    const billing = await startService(pattern, 'billing', { retention: RETENTION });
    await emitRange(fx.client(), pattern, 0, 1000);
    await waitFor(() => billing.seen.size === 1000, 'billing to handle all 1000');
    // The laggard reads 500 and acks them: entries below its position may go, the rest stay.
    const read = (await redis.xreadgroup('GROUP', 'laggard', 'l1', 'COUNT', 500, 'STREAMS', pattern, '>')) as Array<[string, Array<[string, string[]]>]>;
    const ids = read[0][1].map(([id]) => id);
    await redis.xack(pattern, 'laggard', ...ids);
    await waitFor(() => billing.events.some(e => e.heldBackBy === 'laggard' && e.floorId === ids[499]), 'a trim held back at the laggard\'s position');
    const first = ((await redis.xrange(pattern, '-', '+', 'COUNT', 1)) as Array<[string, string[]]>)[0][0];
    // Trimmed only below the laggard's last read entry (in whole stream nodes): nothing it has not read is gone.
    expect(BigInt(first.split('-')[0]) <= BigInt(ids[499].split('-')[0])).toBe(true);
    expect(await redis.xlen(pattern)).toBeGreaterThanOrEqual(500);
  });

  it('maxAgeMs trims read entries by age, never an unread one', async () => {
    const pattern = uniqueName('audit');
    const redis = fx.redis.client();
    await redis.xgroup('CREATE', pattern, 'slow', '$', 'MKSTREAM');
    const fast = await startService(pattern, 'fast', { retention: { maxAgeMs: 200, intervalMs: 100 } });
    await emitRange(fx.client(), pattern, 0, 1000);
    await waitFor(() => fast.seen.size === 1000, 'fast to handle all 1000');
    // Group slow was created before the emits and has read nothing: old as they are, they stay.
    await waitFor(() => fast.events.some(e => e.heldBackBy === 'slow' && e.length === 1000 && e.trimmed === 0), 'a round with slow holding everything');
    expect(await redis.xlen(pattern)).toBe(1000);
    await redis.xgroup('DESTROY', pattern, 'slow');
    await waitFor(() => fast.events.some(e => e.trimmed > 0), 'entries older than 200 ms, read by every group, to be trimmed');
    expect(await redis.xlen(pattern)).toBeLessThan(1000);
  });

  it('hardMaxLen drops unread entries only because it was asked to, and says so', async () => {
    const pattern = uniqueName('firehose');
    const redis = fx.redis.client();
    await redis.xgroup('CREATE', pattern, 'stopped', '0', 'MKSTREAM');
    const registry = new Registry();
    const billing = await startService(pattern, 'billing', { retention: { maxLen: 100, hardMaxLen: 1000, intervalMs: 100 }, metrics: { registry } });
    await emitRange(fx.client(), pattern, 0, 5000);
    await waitFor(() => billing.events.some(e => e.droppedUnread && e.hardTrimmed > 0), 'the hard cap to drop entries group stopped never read');
    const dropped = billing.events.find(e => e.droppedUnread)!;
    expect(dropped).toMatchObject({ heldBackBy: 'stopped', floorId: '0-0' });
    await waitFor(async () => (await redis.xlen(pattern)) <= 1100, 'the stream at about hardMaxLen');
    const hard = billing.events.reduce((n, e) => n + e.hardTrimmed, 0);
    expect(await metricValue(registry, 'nestream_retention_trimmed_total', { stream: pattern, group: 'billing', kind: 'hard' })).toBe(hard);
    expect(hard).toBeGreaterThanOrEqual(3900);
  });

  it('a pattern can turn the server\'s retention off', async () => {
    const pattern = uniqueName('ledger');
    const svc = await startService(pattern, 'billing', { retention: RETENTION }, { retention: false });
    await emitRange(fx.client(), pattern, 0, 1000);
    await waitFor(() => svc.seen.size === 1000, 'all 1000 handled');
    await waitFor(async () => (await fx.pending(pattern, 'billing')) === 0, 'all acked');
    // Two claim rounds later nothing was trimmed (no retention run at all for this pattern's stream).
    const r = fx.redis.client();
    const rounds = async () => Number(((await r.info('commandstats')).match(/cmdstat_xautoclaim:calls=(\d+)/) ?? [])[1] ?? 0);
    const start = await rounds();
    await waitFor(async () => (await rounds()) >= start + 2, 'two claim rounds');
    expect(svc.events).toEqual([]);
    expect(await r.xlen(pattern)).toBe(1000);
  });
});

describe('retention permissions', () => {
  it('listen() fails naming what the trim script needs when the user may not run it', async () => {
    const admin = fx.redis.client();
    await admin.call('ACL', 'SETUSER', 'no-xtrim', 'on', '>pw', '~*', '&*', '+@all', '-xtrim');
    const pattern = uniqueName('orders');
    const [host, port] = fx.redis.url.replace('redis://', '').split(':');
    @Controller()
    class Service {
      @EventPattern<string>(pattern)
      handle() {}
    }
    const server = new RedisStreamsServer({ connection: `redis://no-xtrim:pw@${host}:${port}`, group: 'g', retention: RETENTION });
    await expect(startApp([Service], server)).rejects.toThrow(`the Redis user may not run XTRIM on "${pattern}"`);
    await server.close();
  });
});

describe('retention options', () => {
  const make = (retention: unknown) => () => new RedisStreamsServer({ connection: fx.redis.url, group: 'g', retention: retention as never });

  it('are checked like every other option', () => {
    expect(make({ maxlen: 5 })).toThrow('"retention.maxlen": unknown option; did you mean "maxLen"?');
    expect(make({})).toThrow('needs a bound: maxLen, maxAgeMs or hardMaxLen');
    expect(make({ maxLen: 100, hardMaxLen: 10 })).toThrow('must be >= maxLen (100)');
    expect(make({ maxLen: 0 })).toThrow('retention.maxLen');
    expect(make(5)).toThrow('must be false or { maxLen?, maxAgeMs?, hardMaxLen?, intervalMs? }');
    expect(make(false)).not.toThrow();
  });
});
