import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Registry } from 'prom-client';
import { lastValueFrom } from 'rxjs';
import { RedisStreamContext, UnrecoverableEventError } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { sigkill, startChild } from '../harness/child.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { dashboardTargets, expand, loadDashboard } from './dashboard.js';
import { installed, startPrometheus, type TestPrometheus } from './prometheus-server.js';

// Debian's `prometheus` package; `.ci/run` installs it. Where it cannot be installed, say so loudly.
const HAVE_PROMETHEUS = installed('prometheus');
if (!HAVE_PROMETHEUS) {
  console.error(
    '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' +
      '!!! SKIPPED: the real-Prometheus test needs `prometheus` on the PATH (apt-get install prometheus)\n' +
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n',
  );
}

const fx = useRedis();
const registry = new Registry();
let metricsHttp: Server;
let prometheus: TestPrometheus | undefined;
let victim: ChildProcess | undefined;

beforeAll(async () => {
  // The service's /metrics, as @willsoto/nestjs-prometheus or a hand-written controller would serve it.
  metricsHttp = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>(resolve => metricsHttp.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  if (victim) await sigkill(victim);
  await prometheus?.stop();
  await new Promise(resolve => metricsHttp.close(resolve));
});

/** One number from an instant query that must return exactly one series. */
async function scalar(expr: string): Promise<number | undefined> {
  const result = await prometheus!.query(expr);
  return result.length === 1 ? Number(result[0].value[1]) : undefined;
}

(HAVE_PROMETHEUS ? describe : describe.skip)('a real Prometheus scraping a service', () => {
  it('finds the series with the values of a scripted run, and every dashboard query returns data', async () => {
    const { port } = metricsHttp.address() as { port: number };
    prometheus = await startPrometheus([`127.0.0.1:${port}`]);
    const orders = uniqueName('prom-orders');
    const claims = uniqueName('prom-claims');
    const client = fx.client({ metrics: { registry } });

    // Entries a consumer holds when it is SIGKILLed: the service claims them later.
    victim = await startChild('consumer.mjs', [fx.redis.url, claims, 'victim', '600000']);
    await client.emitMany(claims, Array.from({ length: 4 }, (_, n) => ({ n })));
    await waitFor(async () => (await fx.pending(claims)) === 4, 'the victim to hold 4 entries');
    await sigkill(victim);

    // The service. Orders: i % 10 == 0 fails once; 5 always fails (2 attempts); 7 is unrecoverable.
    const N = 40;
    @Controller()
    class Service {
      @EventPattern(orders)
      order(@Payload() data: { i: number }, @Ctx() ctx: RedisStreamContext) {
        if (data.i === 7) throw new UnrecoverableEventError('poison');
        if (data.i === 5) throw new Error('always');
        if (data.i % 10 === 0 && ctx.getDeliveryCount() === 1) throw new Error('once');
      }

      @EventPattern(claims)
      claimed() {}
    }
    fx.apps.push(
      await startApp([Service], {
        connection: fx.redis.url, group: 'g', consumer: 'service', metrics: { registry, refreshMs: 500 },
        retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50, jitter: 0 } },
        claim: { minIdleMs: 500, intervalMs: 2500 },
      }),
    );
    // The server's series exist at 0 from listen() on; a client's appear with its first entry to a stream.
    // Prometheus has them all before the run, so rate() and increase() see every event of it.
    await lastValueFrom(client.emit(orders, { i: -1 }));
    await waitFor(async () => (await scalar(`nestream_messages_dead_lettered_total{stream="${orders}", reason="decode"}`)) === 0, 'the first scrape');
    await waitFor(async () => (await scalar(`nestream_messages_sent_total{stream="${orders}"}`)) === 1, 'the first scrape of the client');

    for (let i = 0; i < N; i += 10) await client.emitMany(orders, Array.from({ length: 5 }, (_, k) => ({ i: i + k })));
    for (let i = 0; i < N; i++) if (i % 10 >= 5) await lastValueFrom(client.emit(orders, { i }));
    await fx.redis.client().xadd(orders, '*', 'no-data', 'x');
    await waitFor(async () => (await fx.pending(orders)) === 0 && (await fx.pending(claims)) === 0 && (await fx.redis.client().xlen(`${orders}:dlq`)) === 3, 'the run done');

    const success = 1 + N - 2; // with the first entry
    const failure = 4 + 2 + 1;
    const sel = `stream="${orders}", group="g"`;
    await waitFor(async () => (await scalar(`nestream_messages_processed_total{${sel}, outcome="success"}`)) === success, 'Prometheus to scrape the end of the run');
    await waitFor(async () => (await scalar(`nestream_group_pending{${sel}}`)) === 0 && (await scalar(`nestream_messages_claimed_total{stream="${claims}"}`)) === 4, 'the gauges and claims scraped');

    expect(await scalar(`nestream_messages_sent_total{stream="${orders}"}`)).toBe(1 + N);
    expect(await scalar(`nestream_messages_sent_total{stream="${claims}"}`)).toBe(4);
    expect(await scalar(`nestream_messages_processed_total{${sel}, outcome="failure"}`)).toBe(failure);
    expect(await scalar(`nestream_messages_processed_total{stream="${claims}", group="g", outcome="success"}`)).toBe(4);
    for (const [reason, n] of [['decode', 1], ['max-attempts', 1], ['unrecoverable', 1], ['validation', 0], ['manual', 0]] as const) {
      expect([reason, await scalar(`nestream_messages_dead_lettered_total{${sel}, reason="${reason}"}`)]).toEqual([reason, n]);
    }
    expect(await scalar(`nestream_process_duration_seconds_count{${sel}}`)).toBe(success + failure);
    expect(await scalar(`nestream_delivery_latency_seconds_count{${sel}}`)).toBe(success + failure);
    expect(await scalar(`nestream_group_lag{${sel}}`)).toBe(0);
    expect(await scalar(`nestream_stream_length{stream="${orders}"}`)).toBe(1 + N + 1);
    expect(await scalar(`nestream_dead_letter_length{stream="${orders}"}`)).toBe(3);
    expect(await scalar(`nestream_handlers_in_flight{group="g"}`)).toBe(0);

    // The dashboard's variables and every one of its queries, as Grafana would send them.
    const dashboard = loadDashboard();
    const [, streamVar, groupVar] = dashboard.templating.list;
    expect(await prometheus.labelValues('stream', /label_values\((.*), stream\)/.exec(streamVar.definition)![1])).toEqual(expect.arrayContaining([orders, claims]));
    const groupMatch = /label_values\((.*), group\)/.exec(groupVar.definition)![1].replace('$stream', orders);
    expect(await prometheus.labelValues('group', groupMatch)).toEqual(['g']);
    const targets = dashboardTargets(dashboard);
    expect(targets.length).toBeGreaterThanOrEqual(15);
    const empty: string[] = [];
    for (const scope of [{ stream: '.*', group: '.*' }, { stream: orders, group: 'g' }]) {
      for (const t of targets) {
        const expr = expand(t.expr, { ...scope, rateInterval: '1m' });
        const result = await prometheus.query(expr);
        if (!result.some(r => Number.isFinite(Number(r.value[1])))) empty.push(`${t.panel} ${t.refId}: ${expr}`);
      }
    }
    expect(empty).toEqual([]);
  });
});
