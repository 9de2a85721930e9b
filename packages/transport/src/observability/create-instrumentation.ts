import { ConsumerMetrics } from './consumer-metrics.js';
import {
  NO_INSTRUMENTATION,
  type AttemptEntry,
  type AttemptInfo,
  type AttemptObservation,
  type AttemptOutcome,
  type ConsumerInstrumentation,
  type ProducerInstrumentation,
  type SendObservation,
  type TrimReason,
  type WatchedConsumer,
} from './instrumentation.js';
import { producerMetricSet } from './metric-set.js';
import type { ResolvedMetricsOptions, ResolvedTracingOptions } from '../options/observability.js';
import type { CounterSeries, SeriesCounter } from './series-metrics.js';
import { Tracing, type ProcessSpan } from './tracing.js';

/** The resolved `metrics` and `tracing` options of a server or a client (undefined: off). */
export interface ObservabilityOptions {
  metrics?: ResolvedMetricsOptions;
  tracing?: ResolvedTracingOptions;
}

/**
 * The server's instrumentation: Prometheus metrics and OpenTelemetry spans as configured, or
 * NO_INSTRUMENTATION when neither is on. Loads prom-client / @opentelemetry/api; rejects with an
 * InvalidOptionsError when one is missing or the registry holds a metric of the same name that is not ours.
 */
export async function createConsumerInstrumentation(group: string, options: ObservabilityOptions): Promise<ConsumerInstrumentation> {
  if (!options.metrics && !options.tracing) return NO_INSTRUMENTATION;
  const [metrics, tracing] = await Promise.all([
    options.metrics && ConsumerMetrics.create(group, options.metrics),
    options.tracing && Tracing.create(options.tracing),
  ]);
  return new ObservedConsumer(metrics || undefined, tracing || undefined);
}

/** The client's instrumentation, or undefined when neither metrics nor tracing is on (the hot path then skips it). */
export async function createProducerInstrumentation(options: ObservabilityOptions): Promise<ProducerInstrumentation | undefined> {
  if (!options.metrics && !options.tracing) return undefined;
  const [sent, tracing] = await Promise.all([
    options.metrics && producerMetricSet(options.metrics),
    options.tracing && Tracing.create(options.tracing),
  ]);
  return new ObservedProducer(sent || undefined, tracing || undefined);
}

class ObservedConsumer implements ConsumerInstrumentation {
  constructor(
    private readonly metrics: ConsumerMetrics | undefined,
    private readonly tracing: Tracing | undefined,
  ) {}

  attempt(info: AttemptInfo): AttemptObservation {
    this.metrics?.started();
    return new ObservedAttempt(info, this.metrics, this.tracing, this.tracing?.startProcess(info));
  }

  deadLettered(stream: string, reason: string, entry?: AttemptEntry): void {
    this.metrics?.deadLettered(stream, reason);
    if (entry) this.tracing?.deadLettered(stream, reason, entry);
  }

  claimed(stream: string, count: number): void {
    this.metrics?.claimed(stream, count);
  }

  retentionTrimmed(stream: string, safe: number, hard: number): void {
    this.metrics?.retentionTrimmed(stream, safe, hard);
  }

  lateCompletion(stream: string): void {
    this.metrics?.lateCompletion(stream);
  }

  trimmed(stream: string, reason: TrimReason, count: number): void {
    this.metrics?.trimmed(stream, reason, count);
  }

  watch(consumer: WatchedConsumer): () => void {
    return this.metrics ? this.metrics.watch(consumer) : () => undefined;
  }
}

class ObservedAttempt implements AttemptObservation {
  private readonly startedAt = performance.now();
  private ended = false;

  constructor(
    private readonly info: AttemptInfo,
    private readonly metrics: ConsumerMetrics | undefined,
    private readonly tracing: Tracing | undefined,
    private readonly span: ProcessSpan | undefined,
  ) {}

  run<T>(fn: () => T): T {
    return this.span ? this.tracing!.run(this.span, fn) : fn();
  }

  end(outcomes: readonly AttemptOutcome[], error?: unknown): void {
    if (this.ended) return; // counted once, whatever the caller does
    this.ended = true;
    this.metrics?.ended(this.info, outcomes, this.startedAt);
    if (this.span) this.tracing!.endProcess(this.span, outcomes, error);
  }
}

class ObservedProducer implements ProducerInstrumentation {
  /** Metrics without tracing: one observation per stream, reused (nothing allocated per emit). */
  private readonly counting = new Map<string, SendObservation>();

  constructor(
    private readonly sent: SeriesCounter | undefined,
    private readonly tracing: Tracing | undefined,
  ) {}

  send(stream: string, headers: Record<string, string> | undefined, count: number, correlationId?: string): SendObservation {
    if (!this.tracing) return this.countingFor(stream);
    const tracing = this.tracing;
    const started = tracing.startSend(stream, headers, count, correlationId);
    const counter = this.sent && this.countingFor(stream);
    const end = (ids: string | string[] | undefined, error?: unknown) => {
      counter?.end(ids, error);
      tracing.endSend(started.span, ids, error);
    };
    return { headers: started.headers, end, track: xadd => settled(xadd, end) };
  }

  /** Counts the entries sent to `stream` (as many as the ids XADD returned). */
  private countingFor(stream: string): SendObservation {
    let observation = this.counting.get(stream);
    if (!observation) {
      const series: CounterSeries = this.sent!.child({ stream });
      const end = (ids: string | string[] | undefined) => {
        if (ids !== undefined) series.value += typeof ids === 'string' ? 1 : ids.length;
      };
      // Bound once: following an emit's XADD allocates no closure.
      const sent = (ids: unknown) => {
        end(ids as string | string[]);
        return ids;
      };
      observation = { headers: undefined, end, track: xadd => xadd.then(sent as never) };
      this.counting.set(stream, observation);
    }
    return observation;
  }
}

/** `xadd`, calling `end` with its ids or its error once it settles. */
function settled<T>(xadd: Promise<T>, end: (ids: string | string[] | undefined, error?: unknown) => void): Promise<T> {
  return xadd.then(
    ids => {
      end(ids as string | string[]);
      return ids;
    },
    err => {
      end(undefined, err);
      throw err;
    },
  );
}
