import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Counter, Histogram, Registry, register } from 'prom-client';
import { lastValueFrom } from 'rxjs';
import { InvalidOptionsError, RedisStreamContext, RedisStreamsClient, RedisStreamsServer, UnrecoverableEventError } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { sigkill, startChild } from '../harness/child.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { metricValue, metricValues } from './metric-values.js';

const fx = useRedis();
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(sigkill));
});

/** What XINFO GROUPS says about one group, read directly. */
async function xinfoGroup(stream: string, group: string): Promise<{ pending: number; lag: number }> {
  const groups = (await fx.redis.client().xinfo('GROUPS', stream)) as unknown[][];
  const flat = groups.map(g => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]])));
  const mine = flat.find(g => g.name === group)!;
  return { pending: Number(mine.pending), lag: Number(mine.lag) };
}

describe('metrics of a scripted run', () => {
  it('counts sent, processed by outcome, dead letters by reason, durations and latencies exactly, and gauges match XINFO', async () => {
    const registry = new Registry();
    const pattern = uniqueName('metrics-run');
    const N = 30;
    // i % 10 == 0: fails once, then succeeds; i == 5: always fails (2 attempts, then max-attempts);
    // i == 7: unrecoverable (1 attempt). One more entry, written by a plain XADD, cannot be decoded.
    @Controller()
    class Scripted {
      @EventPattern(pattern)
      handle(@Payload() data: { i: number }, @Ctx() ctx: RedisStreamContext) {
        if (data.i === 7) throw new UnrecoverableEventError('poison');
        if (data.i === 5) throw new Error('always');
        if (data.i % 10 === 0 && ctx.getDeliveryCount() === 1) throw new Error('once');
      }
    }
    fx.apps.push(
      await startApp([Scripted], {
        connection: fx.redis.url, group: 'billing', metrics: { registry, refreshMs: 1 },
        retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50, jitter: 0 } },
      }),
    );
    const client = fx.client({ metrics: { registry } });
    for (let i = 0; i < N; i += 10) await client.emitMany(pattern, Array.from({ length: 5 }, (_, k) => ({ i: i + k })));
    for (let i = 0; i < N; i++) if (i % 10 >= 5) await lastValueFrom(client.emit(pattern, { i }));
    await fx.redis.client().xadd(pattern, '*', 'nodata', 'x');

    const labels = { stream: pattern, group: 'billing' };
    const dead = (reason: string) => metricValue(registry, 'nestream_messages_dead_lettered_total', { ...labels, reason });
    await waitFor(async () => (await dead('decode')) === 1 && (await dead('max-attempts')) === 1 && (await dead('unrecoverable')) === 1, 'three dead letters');
    await waitFor(async () => (await fx.pending(pattern, 'billing')) === 0, 'nothing pending');

    expect(await metricValue(registry, 'nestream_messages_sent_total', { stream: pattern })).toBe(N);
    const success = await metricValue(registry, 'nestream_messages_processed_total', { ...labels, outcome: 'success' });
    const failure = await metricValue(registry, 'nestream_messages_processed_total', { ...labels, outcome: 'failure' });
    // 3 fail once then succeed, #5 fails twice, #7 once; every other one succeeds at once.
    expect(failure).toBe(3 + 2 + 1);
    expect(success).toBe(N - 2);
    // Histograms count one observation per processed entry.
    expect(await metricValue(registry, 'nestream_process_duration_seconds_count', labels)).toBe(success! + failure!);
    expect(await metricValue(registry, 'nestream_delivery_latency_seconds_count', labels)).toBe(success! + failure!);
    expect(await metricValue(registry, 'nestream_messages_claimed_total', labels)).toBe(0);

    // Gauges (refreshMs: 1, so this scrape reads Redis again) against XINFO read directly.
    const info = await xinfoGroup(pattern, 'billing');
    expect(await metricValue(registry, 'nestream_group_pending', labels)).toBe(info.pending);
    expect(await metricValue(registry, 'nestream_group_lag', labels)).toBe(info.lag);
    expect(await metricValue(registry, 'nestream_stream_length', { stream: pattern })).toBe(await fx.redis.client().xlen(pattern));
    expect(await metricValue(registry, 'nestream_stream_length', { stream: pattern })).toBe(N + 1);
    expect(await metricValue(registry, 'nestream_dead_letter_length', { stream: pattern })).toBe(3);
    expect(await metricValue(registry, 'nestream_handlers_in_flight', { group: 'billing' })).toBe(0);
  });

  it('shows entries pending and lagging, and handlers in flight, while they are', async () => {
    const registry = new Registry();
    const pattern = uniqueName('metrics-busy');
    const release: Array<() => void> = [];
    @Controller()
    class Slow {
      @EventPattern(pattern)
      handle() {
        return new Promise<void>(resolve => release.push(resolve));
      }
    }
    // A group created ahead, behind 5 entries: a lag of 5 until the server reads them.
    await fx.redis.client().xgroup('CREATE', pattern, 'slow', '$', 'MKSTREAM');
    for (let i = 0; i < 5; i++) await fx.redis.client().xadd(pattern, '*', 'data', JSON.stringify({ i }));
    fx.apps.push(await startApp([Slow], { connection: fx.redis.url, group: 'slow', concurrency: 3, metrics: { registry, refreshMs: 1 } }));
    const labels = { stream: pattern, group: 'slow' };
    await waitFor(() => release.length === 3, 'three handlers running');
    expect(await metricValue(registry, 'nestream_handlers_in_flight', { group: 'slow' })).toBe(3);
    const info = await xinfoGroup(pattern, 'slow');
    expect(info.pending).toBe(3);
    expect(await metricValue(registry, 'nestream_group_pending', labels)).toBe(3);
    expect(await metricValue(registry, 'nestream_group_lag', labels)).toBe(info.lag);
    expect(info.lag).toBe(2);
    while (release.length > 0 || (await fx.pending(pattern, 'slow')) > 0) {
      release.splice(0).forEach(r => r());
      await new Promise(r => setImmediate(r));
    }
    await waitFor(async () => (await metricValue(registry, 'nestream_group_pending', labels)) === 0, 'pending 0 in the gauge');
    expect(await metricValue(registry, 'nestream_group_lag', labels)).toBe(0);
    expect(await metricValue(registry, 'nestream_handlers_in_flight', { group: 'slow' })).toBe(0);
    expect(await metricValue(registry, 'nestream_messages_processed_total', { ...labels, outcome: 'success' })).toBe(5);
  });

  it('counts the entries a SIGKILLed consumer left behind as claimed by the one that takes them over', async () => {
    const registry = new Registry();
    const pattern = uniqueName('metrics-claim');
    const victim = await startChild('consumer.mjs', [fx.redis.url, pattern, 'victim', '600000']);
    children.push(victim);
    const client = fx.client({ metrics: { registry } });
    await client.emitMany(pattern, Array.from({ length: 7 }, (_, n) => ({ n })));
    await waitFor(async () => (await fx.pending(pattern)) === 7, 'the victim to hold all 7');
    await sigkill(victim);
    let handled = 0;
    @Controller()
    class Rescuer {
      @EventPattern(pattern)
      handle() {
        handled++;
      }
    }
    fx.apps.push(
      await startApp([Rescuer], {
        connection: fx.redis.url, group: 'g', consumer: 'rescuer', claim: { minIdleMs: 500, intervalMs: 100 }, metrics: { registry },
      }),
    );
    await waitFor(() => handled === 7, 'all 7 handled by the rescuer');
    const labels = { stream: pattern, group: 'g' };
    expect(await metricValue(registry, 'nestream_messages_claimed_total', labels)).toBe(7);
    expect(await metricValue(registry, 'nestream_messages_processed_total', { ...labels, outcome: 'success' })).toBe(7);
    expect(await metricValue(registry, 'nestream_messages_sent_total', { stream: pattern })).toBe(7);
  });
});

describe('metrics gauges', () => {
  /** XINFO GROUPS calls Redis has served so far. */
  async function xinfoCalls(): Promise<number> {
    const stats = await fx.redis.client().info('commandstats');
    return Number(/cmdstat_xinfo\|groups:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  it('reads Redis at most once per refreshMs, however often it is scraped', async () => {
    const registry = new Registry();
    const pattern = uniqueName('metrics-refresh');
    @Controller()
    class Idle {
      @EventPattern(pattern)
      handle() {}
    }
    fx.apps.push(await startApp([Idle], { connection: fx.redis.url, group: 'g', metrics: { registry, refreshMs: 600_000 } }));
    const before = await xinfoCalls();
    for (let i = 0; i < 10; i++) await registry.metrics();
    expect((await xinfoCalls()) - before).toBe(1);
    // New entries show only at the next refresh: the scrape got the values kept from the first one.
    await fx.redis.client().xadd(pattern, '*', 'data', '{}');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'the entry handled');
    expect(await metricValue(registry, 'nestream_stream_length', { stream: pattern })).toBe(0);
  });

  it('answers a scrape within refreshTimeoutMs with the last values while Redis does not answer', async () => {
    const { startProxy } = await import('../harness/freezable-proxy.js');
    const proxy = await startProxy(fx.redis.port);
    const registry = new Registry();
    const pattern = uniqueName('metrics-frozen');
    @Controller()
    class Idle {
      @EventPattern(pattern)
      handle() {}
    }
    await fx.redis.client().xadd(pattern, '*', 'data', '{}');
    const app = await startApp([Idle], { connection: proxy.url, group: 'g', startId: '0', shutdownTimeoutMs: 500, metrics: { registry, refreshMs: 1, refreshTimeoutMs: 200 } });
    fx.apps.push(app);
    await waitFor(async () => (await metricValue(registry, 'nestream_messages_processed_total', { stream: pattern, group: 'g', outcome: 'success' })) === 1, 'the entry handled');
    await waitFor(async () => (await metricValue(registry, 'nestream_group_pending', { stream: pattern, group: 'g' })) === 0, 'pending 0');
    proxy.freeze('nestream:commands');
    await fx.redis.client().xadd(pattern, '*', 'data', '{}');
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      expect(await metricValue(registry, 'nestream_stream_length', { stream: pattern })).toBe(1);
      // Bounded by refreshTimeoutMs (200 ms): far below the 10 s of Prometheus's scrape timeout.
      expect(Date.now() - started).toBeLessThan(5000);
    }
    await app.close();
    await proxy.close();
  });

  it('lets several servers of one process share prom-client default registry, and drops the gauges of a closed one', async () => {
    const pattern = uniqueName('metrics-shared');
    @Controller()
    class Idle {
      @EventPattern(pattern)
      handle() {}
    }
    const a = await startApp([Idle], { connection: fx.redis.url, group: 'a', metrics: true });
    const b = await startApp([Idle], { connection: fx.redis.url, group: 'b', metrics: true });
    const c = await startApp([Idle], { connection: fx.redis.url, group: 'b', metrics: true });
    fx.apps.push(a, b, c);
    const client = fx.client({ metrics: true });
    const client2 = fx.client({ metrics: true });
    try {
      await client.emitMany(pattern, [{ n: 1 }]);
      await client2.emitMany(pattern, [{ n: 2 }]);
      await waitFor(async () => (await metricValue(register, 'nestream_messages_processed_total', { stream: pattern, group: 'b', outcome: 'success' })) === 2, 'group b handled both');
      expect(await metricValue(register, 'nestream_messages_sent_total', { stream: pattern })).toBe(2);
      expect(await metricValue(register, 'nestream_messages_processed_total', { stream: pattern, group: 'a', outcome: 'success' })).toBe(2);
      const groups = async () => (await metricValues(register, 'nestream_group_pending')).filter(v => v.labels.stream === pattern).map(v => v.labels.group).sort();
      expect(await groups()).toEqual(['a', 'b']);
      await a.close();
      expect(await groups()).toEqual(['b']);
    } finally {
      register.clear();
    }
  });
});

describe('metrics exposition', () => {
  it('writes the same text and JSON as prom-client\'s own Counter and Histogram for the same events', async () => {
    const { SeriesCounter, SeriesHistogram } = await import('../../packages/transport/src/observability/series-metrics.js');
    const buckets = [0.01, 0.1, 1];
    const observations = [0, 0.01, 0.05, 0.1, 0.5, 1, 7];
    const theirs = new Registry();
    const ours = new Registry();
    const counter = new Counter({ name: 'x_total', help: 'h', labelNames: ['stream', 'group'], registers: [theirs] });
    const histogram = new Histogram({ name: 'y_seconds', help: 'h', labelNames: ['stream'], buckets, registers: [theirs] });
    const seriesCounter = new SeriesCounter('x_total', 'h', ['stream', 'group']);
    const seriesHistogram = new SeriesHistogram('y_seconds', 'h', ['stream'], buckets);
    ours.registerMetric(seriesCounter as never);
    ours.registerMetric(seriesHistogram as never);
    for (const [stream, n] of [['a', 3], ['b"\\', 1]] as const) {
      counter.inc({ stream, group: 'g' }, n);
      seriesCounter.child({ stream, group: 'g' }).value += n;
      for (const v of observations) {
        histogram.observe({ stream }, v);
        seriesHistogram.observe(seriesHistogram.child({ stream }), v);
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // The same JSON too (prom-client adds empty exemplar fields to histogram values).
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (k, v) => (k === 'exemplar' ? undefined : v)));
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
    // registry.resetMetrics() zeroes the series (they stay bound to the servers and clients using them).
    ours.resetMetrics();
    const values = (await ours.getMetricsAsJSON()).flatMap(m => m.values.map(v => v.value));
    expect(values.length).toBe(2 + 2 * (buckets.length + 3));
    expect(new Set(values)).toEqual(new Set([0]));
  });
});

describe('metrics options', () => {
  it.each([
    [{ metrics: 'yes' }, 'metrics'],
    [{ metrics: { refreshMs: 0 } }, 'metrics.refreshMs'],
    [{ metrics: { refreshTimeoutMs: 1.5 } }, 'metrics.refreshTimeoutMs'],
    [{ metrics: { registry: {} } }, 'metrics.registry'],
    [{ metrics: { durationBuckets: [1, 0.5] } }, 'metrics.durationBuckets'],
    [{ tracing: 1 }, 'tracing'],
    [{ tracing: { tracerProvider: {} } }, 'tracing.tracerProvider'],
  ])('rejects %j naming "%s", on the server and on the client', (options, name) => {
    for (const make of [() => new RedisStreamsServer({ group: 'g', ...(options as object) }), () => new RedisStreamsClient(options as never)]) {
      expect(make).toThrow(InvalidOptionsError);
      expect(make).toThrow(`"${name}"`);
    }
  });

  it('refuses a registry holding a metric of the same name that is not nestream\'s', async () => {
    const registry = new Registry();
    registry.registerMetric(new (class {
      name = 'nestream_messages_sent_total';
      type = 'gauge';
      labelNames = ['stream'];
      get() {
        return { name: this.name, help: 'x', type: this.type, values: [], aggregator: 'sum' };
      }
    })() as never);
    const client = fx.client({ metrics: { registry } });
    await expect(client.connect()).rejects.toThrow('"nestream_messages_sent_total" that is not nestream\'s');
    await expect(lastValueFrom(client.emit('x', {}))).rejects.toThrow(InvalidOptionsError);
  });

  it('names the package to install when an optional peer is missing', async () => {
    const { loadPeer } = await import('../../packages/transport/src/observability/load-peer.js');
    await expect(loadPeer('nestream-no-such-package', 'metrics')).rejects.toThrow(InvalidOptionsError);
    await expect(loadPeer('nestream-no-such-package', 'metrics')).rejects.toThrow(
      'Invalid nestream option "metrics": needs the package "nestream-no-such-package", which is not installed: npm install nestream-no-such-package',
    );
  });
});
