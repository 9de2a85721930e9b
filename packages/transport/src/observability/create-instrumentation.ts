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
  type WatchedConsumer,
} from './instrumentation.js';
import { producerMetricSet } from './metric-set.js';
import type { ResolvedMetricsOptions, ResolvedTracingOptions } from './observability-options.js';
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
  private readonly byStream = new Map<string, CounterSeries>();

  constructor(
    private readonly sent: SeriesCounter | undefined,
    private readonly tracing: Tracing | undefined,
  ) {}

  send(stream: string, headers: Record<string, string> | undefined, count: number, correlationId?: string): SendObservation {
    const started = this.tracing?.startSend(stream, headers, count, correlationId);
    const counter = this.sent && this.counterOf(stream, this.sent);
    const tracing = this.tracing;
    return {
      headers: started ? started.headers : headers,
      end(ids, error) {
        if (counter && ids !== undefined) counter.value += count;
        if (started) tracing!.endSend(started.span, ids, error);
      },
    };
  }

  private counterOf(stream: string, sent: SeriesCounter): CounterSeries {
    let c = this.byStream.get(stream);
    if (!c) {
      c = sent.child({ stream });
      this.byStream.set(stream, c);
    }
    return c;
  }
}
