import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api';
import type { AttemptEntry, AttemptInfo, AttemptOutcome } from './instrumentation.js';
import { loadPeer } from './load-peer.js';
import type { ResolvedTracingOptions } from '../options/observability.js';
import { injectTraceContext, parseTraceParent, TRACESTATE } from './w3c-trace-context.js';

type OtelApi = typeof import('@opentelemetry/api');

/** The API's exports: its ESM build has them by name, its CommonJS build is an ES module compiled (`__esModule`). */
export function otelApi(module: Record<string, unknown>): OtelApi {
  return (module.trace ? module : module.default) as OtelApi;
}

/** Instrumentation scope of every span the transport makes. */
export const TRACER_NAME = '@nestream/transport';

// Attribute names after the OpenTelemetry messaging semantic conventions. There is no generic delivery
// count attribute: `messaging.<system>.message.delivery_count` follows the one of Azure Service Bus.
export const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  group: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  batchCount: 'messaging.batch.message_count',
  deliveryCount: 'messaging.redis.message.delivery_count',
  deadLetterReason: 'nestream.dead_letter.reason',
} as const;

/** The CONSUMER span of one handler call, and the context the handler runs in. */
export interface ProcessSpan {
  span: Span;
  context: Context;
}

/**
 * Spans of the transport: PRODUCER `send <stream>` per emit/send (its context goes into the entry's headers),
 * CONSUMER `process <stream>` per handler call (child of the producer's span; a batch call links to each),
 * and `dead-letter <stream>` where an entry is given up. With no SDK registered, the API's no-op tracer
 * makes all of it nearly free, and an incoming trace context is still passed on.
 */
export class Tracing {
  private readonly tracer: Tracer;

  static async create(options: ResolvedTracingOptions): Promise<Tracing> {
    return new Tracing(otelApi(await loadPeer('@opentelemetry/api', 'tracing')), options);
  }

  private constructor(
    private readonly api: OtelApi,
    options: ResolvedTracingOptions,
  ) {
    // The global provider is a proxy: an SDK registered after this still gets the spans.
    const provider = (options.tracerProvider as { getTracer(name: string): Tracer } | undefined) ?? api.trace.getTracerProvider();
    this.tracer = provider.getTracer(TRACER_NAME);
  }

  /** Starts the PRODUCER span of an XADD; returns it and the headers carrying its context. */
  startSend(stream: string, headers: Record<string, string> | undefined, count: number, correlationId?: string): { span: Span; headers: Record<string, string> | undefined } {
    const { api } = this;
    const attributes: Attributes = {
      [ATTR.system]: 'redis',
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: 'send',
      [ATTR.destination]: stream,
    };
    if (count !== 1) attributes[ATTR.batchCount] = count;
    if (correlationId !== undefined) attributes[ATTR.conversationId] = correlationId;
    const parent = api.context.active();
    const span = this.tracer.startSpan(`send ${stream}`, { kind: api.SpanKind.PRODUCER, attributes }, parent);
    const spanContext = span.spanContext();
    // No SDK and no trace to continue: nothing to carry, and the entry stays as it was.
    if (!api.isSpanContextValid(spanContext)) return { span, headers };
    const out: Record<string, string> = { ...headers };
    injectTraceContext(spanContext, out);
    api.propagation.inject(api.trace.setSpan(parent, span), out);
    return { span, headers: out };
  }

  /** The XADD is done: its id, or its error. */
  endSend(span: Span, ids: string | string[] | undefined, error?: unknown): void {
    if (typeof ids === 'string') span.setAttribute(ATTR.messageId, ids);
    if (error !== undefined) this.fail(span, error);
    span.end();
  }

  startProcess(info: AttemptInfo): ProcessSpan {
    const { api } = this;
    const attributes: Attributes = {
      [ATTR.system]: 'redis',
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'process',
      [ATTR.destination]: info.stream,
      [ATTR.group]: info.group,
    };
    let parent: Context = api.ROOT_CONTEXT;
    let links: Link[] | undefined;
    if (info.batch) {
      // One call for many entries, each with its own trace: the span links to every one of them.
      attributes[ATTR.batchCount] = info.entries.length;
      links = [];
      for (const entry of info.entries) {
        const remote = api.trace.getSpanContext(this.extract(entry.headers));
        if (remote) links.push({ context: remote, attributes: { [ATTR.messageId]: entry.id, [ATTR.deliveryCount]: entry.deliveryCount } });
      }
    } else {
      const entry = info.entries[0];
      Object.assign(attributes, entryAttributes(entry));
      // The producer's span is the parent: the trace goes on from the service that emitted the entry.
      parent = this.extract(entry.headers);
    }
    const span = this.tracer.startSpan(`process ${info.stream}`, { kind: api.SpanKind.CONSUMER, attributes, links }, parent);
    const first = info.batch ? undefined : info.entries[0];
    if (first && first.deliveryCount > 1) span.addEvent('retry', { [ATTR.deliveryCount]: first.deliveryCount });
    return { span, context: api.trace.setSpan(parent, span) };
  }

  /** Runs the handler with its span active: its logs and emits belong to the trace. */
  run<T>(process: ProcessSpan, fn: () => T): T {
    return this.api.context.with(process.context, fn);
  }

  endProcess(process: ProcessSpan, outcomes: readonly AttemptOutcome[], error?: unknown): void {
    const { span } = process;
    let failed = 0;
    for (const o of outcomes) if (o === 'failure') failed++;
    if (failed > 0) {
      if (outcomes.length > 1) span.setAttribute('nestream.batch.failed_count', failed);
      if (error !== undefined) this.fail(span, error);
      else span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: `${failed} of ${outcomes.length} entries failed` });
    }
    span.end();
  }

  /** A short span in the entry's trace saying it was given up, and why. */
  deadLettered(stream: string, reason: string, entry: AttemptEntry): void {
    const { api } = this;
    const attributes: Attributes = {
      [ATTR.system]: 'redis',
      [ATTR.destination]: stream,
      [ATTR.deadLetterReason]: reason,
      ...entryAttributes(entry),
    };
    const parent = this.extract(entry.headers);
    const span = this.tracer.startSpan(`dead-letter ${stream}`, { kind: api.SpanKind.INTERNAL, attributes }, parent);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: `dead-lettered: ${reason}` });
    span.end();
  }

  /** The context an entry's headers carry: the application's propagator first, else our W3C reading. */
  private extract(headers: Record<string, string> | undefined): Context {
    const { api } = this;
    if (!headers) return api.ROOT_CONTEXT;
    const extracted = api.propagation.extract(api.ROOT_CONTEXT, headers);
    if (api.trace.getSpanContext(extracted)) return extracted;
    const remote = parseTraceParent(headers);
    if (!remote) return extracted;
    const state = headers[TRACESTATE];
    return api.trace.setSpanContext(extracted, { ...remote, traceState: state ? api.createTraceState(state) : undefined });
  }

  private fail(span: Span, error: unknown): void {
    const exception = asException(error);
    span.recordException(exception);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: typeof exception === 'string' ? exception : String(exception.message) });
  }
}

function entryAttributes(entry: AttemptEntry): Attributes {
  const attributes: Attributes = { [ATTR.messageId]: entry.id, [ATTR.deliveryCount]: entry.deliveryCount };
  if (entry.bodySize !== undefined) attributes[ATTR.bodySize] = entry.bodySize;
  return attributes;
}

/** Handlers throw anything; Nest errors may be plain objects. */
function asException(error: unknown): Error | { name: string; message: string } | string {
  if (error instanceof Error) return error;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    const e = error as { name?: unknown; message: string };
    return { name: typeof e.name === 'string' ? e.name : 'Error', message: e.message };
  }
  return String(error);
}
