import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkOptions, isObject, positiveInt, withMethod, type Check, type OptionTable } from './checks.js';

/**
 * The `metrics` and `tracing` options of the server and the client. Typed structurally, so the package's
 * types do not need prom-client or @opentelemetry/api installed: a prom-client `Registry` and an
 * OpenTelemetry `TracerProvider` fit.
 */

/** A prom-client `Registry` (only what nestream uses of it). */
export interface MetricsRegistry {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: never): void;
}

/** An OpenTelemetry `TracerProvider`. */
export interface TracingProvider {
  getTracer(name: string, version?: string): unknown;
}

export interface MetricsOptions {
  /** Where the metrics are registered. @default prom-client's default registry (`register`) */
  registry?: MetricsRegistry;
  /** Gauges (XINFO per stream) are read at most this often; scrapes in between get the last values. @default 5000 */
  refreshMs?: number;
  /** How long a scrape waits for a gauge refresh before answering with the last values. @default 1000 */
  refreshTimeoutMs?: number;
  /** Buckets of `nestream_process_duration_seconds`. @default [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  durationBuckets?: number[];
  /** Buckets of `nestream_delivery_latency_seconds`. @default [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] */
  latencyBuckets?: number[];
}

export interface TracingOptions {
  /** Where the tracer comes from. @default the global provider (`trace.getTracerProvider()`), a no-op until an SDK registers one */
  tracerProvider?: TracingProvider;
}

export interface ResolvedMetricsOptions {
  registry?: MetricsRegistry;
  refreshMs: number;
  refreshTimeoutMs: number;
  durationBuckets: number[];
  latencyBuckets: number[];
}

export interface ResolvedTracingOptions {
  tracerProvider?: TracingProvider;
}

export const DEFAULT_METRICS_OPTIONS: Omit<ResolvedMetricsOptions, 'registry'> = {
  // Prometheus's own default scrape interval is 15 s, Grafana's sample dashboards refresh every 5 s: one XINFO
  // round per 5 s per server is nothing for Redis, and a faster scrape than that gets the same values again.
  refreshMs: 5000,
  // Well under Prometheus's default scrape_timeout (10 s): a slow Redis costs a scrape 1 s, never the scrape.
  refreshTimeoutMs: 1000,
  durationBuckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  latencyBuckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
};

const buckets: Check = (value, path) => {
  const ok = Array.isArray(value) && value.length > 0 && value.every((b, i) => typeof b === 'number' && b > 0 && (i === 0 || b > value[i - 1]));
  if (!ok) throw new InvalidOptionsError(path, 'must be a non-empty array of increasing positive numbers (seconds)');
};

/** `true`, `false`, or an options object checked against its table (an unknown key names the closest). */
function switchOr<T>(table: OptionTable<T>): Check {
  return (value, path) => {
    if (typeof value === 'boolean') return;
    if (!isObject(value)) throw new InvalidOptionsError(path, 'must be true, false or an object');
    checkOptions(table, value, path);
  };
}

const METRICS_OPTIONS: OptionTable<MetricsOptions> = {
  registry: withMethod('getSingleMetric', 'a prom-client Registry'),
  refreshMs: positiveInt,
  refreshTimeoutMs: positiveInt,
  durationBuckets: buckets,
  latencyBuckets: buckets,
};

const TRACING_OPTIONS: OptionTable<TracingOptions> = {
  tracerProvider: withMethod('getTracer', 'an OpenTelemetry TracerProvider'),
};

/** The checks of the `metrics` and `tracing` options, for the server's and the client's option tables. */
export const metricsOption: Check = switchOr(METRICS_OPTIONS);
export const tracingOption: Check = switchOr(TRACING_OPTIONS);

/** `metrics: true | { ... }` -> resolved options, or undefined when off. Throws InvalidOptionsError naming the option. */
export function resolveMetricsOptions(value: unknown): ResolvedMetricsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  metricsOption(value, 'metrics');
  const o = value === true ? {} : (value as MetricsOptions);
  const d = DEFAULT_METRICS_OPTIONS;
  return {
    registry: o.registry,
    refreshMs: o.refreshMs ?? d.refreshMs,
    refreshTimeoutMs: o.refreshTimeoutMs ?? d.refreshTimeoutMs,
    durationBuckets: o.durationBuckets ?? d.durationBuckets,
    latencyBuckets: o.latencyBuckets ?? d.latencyBuckets,
  };
}

/** `tracing: true | { tracerProvider }` -> resolved options, or undefined when off. */
export function resolveTracingOptions(value: unknown): ResolvedTracingOptions | undefined {
  if (value === undefined || value === false) return undefined;
  tracingOption(value, 'tracing');
  return { tracerProvider: value === true ? undefined : (value as TracingOptions).tracerProvider };
}
