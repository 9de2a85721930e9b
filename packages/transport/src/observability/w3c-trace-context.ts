import type { SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) in entry headers, written and read by the
 * transport itself: the trace crosses Redis even when the application registered no propagator (the
 * OpenTelemetry SDK packages alone register none). A propagator the application did register runs too.
 */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/** Writes `traceparent` (and `tracestate` when there is one) of a span context into `headers`. */
export function injectTraceContext(spanContext: SpanContext, headers: Record<string, string>): void {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  headers[TRACEPARENT] = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const state = spanContext.traceState?.serialize();
  if (state) headers[TRACESTATE] = state;
}

/** The remote span context in `headers`, or undefined when there is none or it is malformed. */
export function parseTraceParent(headers: Record<string, string> | undefined): Omit<SpanContext, 'traceState'> | undefined {
  const value = headers?.[TRACEPARENT];
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT_RE.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is forbidden; version 00 has nothing after the flags; later versions may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0x01, isRemote: true };
}
