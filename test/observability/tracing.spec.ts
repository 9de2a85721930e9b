import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { lastValueFrom } from 'rxjs';
import { RedisStreamBatchContext, RedisStreamContext, RedisStreamsClient, traceIdOf } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { sigkill } from '../harness/child.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

// This process is the "billing" service: its spans go to an in-memory exporter. It registers the W3C
// propagator (as NodeSDK does); the other process registers none: both must carry the trace.
const exporter = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(sigkill));
});

interface SpanJson {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes?: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string }>;
}

function toJson(s: ReadableSpan): SpanJson {
  return {
    name: s.name,
    kind: SpanKind[s.kind],
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId,
    status: s.status,
    attributes: s.attributes,
    events: s.events.map(e => ({ name: e.name, attributes: e.attributes })),
    links: s.links.map(l => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
  };
}

/** Starts the other service's process; resolves with its HTTP port. */
async function startOrdersService(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(fixtures, 'traced-service.mjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', code => reject(new Error(`traced-service.mjs exited with ${code} before it was ready`)));
  });
  return { child, port };
}

function one(spans: SpanJson[], predicate: (s: SpanJson) => boolean, what: string): SpanJson {
  const found = spans.filter(predicate);
  if (found.length !== 1) throw new Error(`expected one span ${what}, found ${found.length}: ${JSON.stringify(spans.map(s => s.name))}`);
  return found[0];
}

describe('tracing across services', () => {
  it('keeps one trace from an HTTP request through emit, handler, emit, handler in two processes, with an errored first attempt', async () => {
    const orders = uniqueName('orders.created');
    const billing = uniqueName('billing.charged');
    const { port } = await startOrdersService([fx.redis.url, orders, billing]);

    // The billing service: fails the first attempt, then charges and emits billing.charged.
    const seen: Array<{ id: string; attempt: number; traceId?: string }> = [];
    @Controller()
    class Billing {
      constructor(@Inject('EVENTS') private readonly events: RedisStreamsClient) {}

      @EventPattern(orders)
      async charge(@Payload() order: { order: number }, @Ctx() ctx: RedisStreamContext) {
        seen.push({ id: ctx.getMessageId(), attempt: ctx.getDeliveryCount(), traceId: traceIdOf() });
        if (ctx.getDeliveryCount() === 1) throw new Error('card declined, try again');
        await lastValueFrom(this.events.emit(billing, { order: order.order, charged: true }));
      }
    }
    const client = fx.client({ tracing: true });
    fx.apps.push(
      await startApp([Billing], {
        connection: fx.redis.url, group: 'billing', tracing: true, retry: { backoff: { type: 'fixed', delayMs: 100, jitter: 0 } },
      }, [{ provide: 'EVENTS', useValue: client }]),
    );

    const response = await fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST' });
    expect(response.status).toBe(202);
    const { id: orderEntryId, traceId } = (await response.json()) as { id: string; traceId: string };

    const remote = async () => ((await (await fetch(`http://127.0.0.1:${port}/spans`)).json()) as { spans: SpanJson[]; handled: Array<{ id: string }> });
    await waitFor(async () => (await remote()).handled.length === 1 && (await remote()).spans.some(s => s.name === `process ${billing}`), 'billing.charged handled');
    const theirs = (await remote()).spans;
    const ours = exporter.getFinishedSpans().map(toJson);
    const all = [...theirs, ...ours];

    // One trace id everywhere, also in what the handler saw (for its log lines).
    expect(new Set(all.map(s => s.traceId))).toEqual(new Set([traceId]));
    expect(seen.map(s => s.traceId)).toEqual([traceId, traceId]);

    const http = one(theirs, s => s.name === 'POST /orders', 'POST /orders');
    const sendOrder = one(theirs, s => s.name === `send ${orders}`, `send ${orders}`);
    const attempts = ours.filter(s => s.name === `process ${orders}`).sort((a, b) => Number(a.attributes['messaging.redis.message.delivery_count']) - Number(b.attributes['messaging.redis.message.delivery_count']));
    const sendBilling = one(ours, s => s.name === `send ${billing}`, `send ${billing}`);
    const processBilling = one(theirs, s => s.name === `process ${billing}`, `process ${billing}`);

    // Parent and child: HTTP -> send -> (each attempt of) process -> send -> process.
    expect(http.parentSpanId).toBeUndefined();
    expect(sendOrder.parentSpanId).toBe(http.spanId);
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) expect(attempt.parentSpanId).toBe(sendOrder.spanId);
    expect(sendBilling.parentSpanId).toBe(attempts[1].spanId);
    expect(processBilling.parentSpanId).toBe(sendBilling.spanId);

    // Kinds and messaging attributes.
    expect([http.kind, sendOrder.kind, attempts[0].kind, sendBilling.kind, processBilling.kind]).toEqual(['SERVER', 'PRODUCER', 'CONSUMER', 'PRODUCER', 'CONSUMER']);
    expect(sendOrder.attributes).toMatchObject({
      'messaging.system': 'redis', 'messaging.operation.type': 'send', 'messaging.destination.name': orders, 'messaging.message.id': orderEntryId,
    });
    expect(attempts[0].attributes).toMatchObject({
      'messaging.system': 'redis', 'messaging.operation.type': 'process', 'messaging.destination.name': orders,
      'messaging.consumer.group.name': 'billing', 'messaging.message.id': orderEntryId, 'messaging.redis.message.delivery_count': 1,
    });
    expect(attempts[0].attributes['messaging.message.body.size']).toBe(JSON.stringify({ order: 1 }).length);
    expect(attempts[1].attributes).toMatchObject({ 'messaging.message.id': orderEntryId, 'messaging.redis.message.delivery_count': 2 });
    expect(processBilling.attributes).toMatchObject({ 'messaging.consumer.group.name': 'orders', 'messaging.destination.name': billing });

    // The failed attempt: error status and the exception; the retry says so; the rest is OK.
    expect(attempts[0].status).toEqual({ code: SpanStatusCode.ERROR, message: 'card declined, try again' });
    expect(attempts[0].events).toEqual([
      expect.objectContaining({ name: 'exception', attributes: expect.objectContaining({ 'exception.message': 'card declined, try again', 'exception.type': 'Error' }) }),
    ]);
    expect(attempts[1].events.map(e => e.name)).toEqual(['retry']);
    for (const s of [http, sendOrder, attempts[1], sendBilling, processBilling]) expect(s.status.code).not.toBe(SpanStatusCode.ERROR);
  });
});

describe('tracing in one service', () => {
  it('gives a batch handler call one span linked to each entry\'s producer span', async () => {
    const pattern = uniqueName('batch');
    const client = fx.client({ tracing: true });
    const tracer = trace.getTracer('test');
    const parents: string[] = [];
    for (let i = 0; i < 3; i++) {
      await tracer.startActiveSpan(`request ${i}`, async span => {
        parents.push(span.spanContext().traceId);
        await lastValueFrom(client.emit(pattern, { i }));
        span.end();
      });
    }
    let calls = 0;
    @Controller()
    class Batch {
      @EventPattern(pattern, { batch: true })
      store(@Payload() items: unknown[], @Ctx() ctx: RedisStreamBatchContext) {
        calls++;
        ctx.fail(1, new Error('row 1 refused'));
        return items;
      }
    }
    fx.apps.push(await startApp([Batch], { connection: fx.redis.url, group: 'g', startId: '0', tracing: true, retry: { maxAttempts: 1 } }));
    await waitFor(() => calls === 1 && exporter.getFinishedSpans().some(s => s.name === `dead-letter ${pattern}`), 'the batch call and the dead letter');
    const spans = exporter.getFinishedSpans().map(toJson);
    const sends = spans.filter(s => s.name === `send ${pattern}`);
    const batch = one(spans, s => s.name === `process ${pattern}`, 'process');
    expect(sends).toHaveLength(3);
    expect(batch.attributes['messaging.batch.message_count']).toBe(3);
    expect(batch.links.map(l => l.spanId).sort()).toEqual(sends.map(s => s.spanId).sort());
    expect(batch.links.map(l => l.traceId).sort()).toEqual([...parents].sort());
    // One entry of three failed without a throw: the span says how many.
    expect(batch.status).toEqual({ code: SpanStatusCode.ERROR, message: '1 of 3 entries failed' });
    // The failed entry's dead-lettering shows in its own trace, under the span that sent it.
    const dead = one(spans, s => s.name === `dead-letter ${pattern}`, 'dead-letter');
    expect(dead.attributes).toMatchObject({ 'nestream.dead_letter.reason': 'max-attempts', 'messaging.redis.message.delivery_count': 1 });
    expect(dead.parentSpanId).toBe(sends[1].spanId);
    expect(dead.traceId).toBe(parents[1]);
  });

  it('gives log lines the trace id of the active span, else of the entry\'s traceparent', async () => {
    const { withTraceId } = await import('../../packages/transport/src/observability/trace-log.js');
    const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    expect(withTraceId('Dead-lettered entry 1-0', headers)).toBe('Dead-lettered entry 1-0 trace_id=0af7651916cd43dd8448eb211c80319c');
    expect(withTraceId('line', { traceparent: 'garbage' })).toBe('line');
    expect(withTraceId('line')).toBe('line');
    trace.getTracer('test').startActiveSpan('active', span => {
      expect(withTraceId('line', headers)).toBe(`line trace_id=${span.spanContext().traceId}`);
      span.end();
    });
  });

  it('records into the tracerProvider option rather than the global provider', async () => {
    const own = new InMemorySpanExporter();
    const pattern = uniqueName('own-provider');
    const client = fx.client({ tracing: { tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] }) } });
    await lastValueFrom(client.emit(pattern, { a: 1 }));
    expect(own.getFinishedSpans().map(s => s.name)).toEqual([`send ${pattern}`]);
    expect(exporter.getFinishedSpans().filter(s => s.name.endsWith(pattern))).toEqual([]);
  });

  it('adds nothing to entries when no trace is going on and no SDK records', async () => {
    trace.disable();
    try {
      const pattern = uniqueName('untraced');
      const client = fx.client({ tracing: true, metrics: false });
      await lastValueFrom(client.emit(pattern, { a: 1 }));
      const [[, fields]] = (await fx.redis.client().xrange(pattern, '-', '+')) as [string, string[]][];
      expect(fields.filter((_, i) => i % 2 === 0)).toEqual(['data', 'cid']);
    } finally {
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    }
  });
});

describe('W3C trace context in entry headers', () => {
  it('reads valid traceparent values and refuses malformed ones', async () => {
    const { parseTraceParent } = await import('../../packages/transport/src/observability/w3c-trace-context.js');
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const spanId = 'b7ad6b7169203331';
    expect(parseTraceParent({ traceparent: `00-${traceId}-${spanId}-01` })).toEqual({ traceId, spanId, traceFlags: 1, isRemote: true });
    expect(parseTraceParent({ traceparent: `00-${traceId}-${spanId}-00` })?.traceFlags).toBe(0);
    // A later version may add fields after the flags; version 00 may not.
    expect(parseTraceParent({ traceparent: `01-${traceId}-${spanId}-01-extra` })?.traceId).toBe(traceId);
    for (const bad of [
      `00-${traceId}-${spanId}-01-extra`,
      `ff-${traceId}-${spanId}-01`,
      `00-${'0'.repeat(32)}-${spanId}-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
      `00-${traceId.toUpperCase()}-${spanId}-01`,
      `00-${traceId}-${spanId}`,
      '',
    ]) {
      expect([bad, parseTraceParent({ traceparent: bad })]).toEqual([bad, undefined]);
    }
    expect(parseTraceParent({})).toBeUndefined();
    expect(parseTraceParent(undefined)).toBeUndefined();
  });
});
