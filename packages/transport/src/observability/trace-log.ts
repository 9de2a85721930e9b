import { loadedPeer } from './load-peer.js';
import { otelApi } from './tracing.js';
import { parseTraceParent } from './w3c-trace-context.js';

/**
 * The trace id a log line belongs to: the active span's (inside a handler call with `tracing` on), else the
 * one the entry's `traceparent` header carries (the producer's trace, which the handler's span continues).
 */
export function traceIdOf(headers?: Record<string, string>): string | undefined {
  // Only when tracing loaded the API: a log line never loads an optional package.
  const loaded = loadedPeer('@opentelemetry/api');
  if (loaded) {
    const api = otelApi(loaded);
    const active = api.trace.getSpan(api.context.active())?.spanContext();
    if (active && api.isSpanContextValid(active)) return active.traceId;
  }
  return parseTraceParent(headers)?.traceId;
}

/** `line` with ` trace_id=<id>` appended when a trace is known, for the transport's log lines. */
export function withTraceId(line: string, headers?: Record<string, string>): string {
  const traceId = traceIdOf(headers);
  return traceId ? `${line} trace_id=${traceId}` : line;
}
