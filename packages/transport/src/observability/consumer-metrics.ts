import type { DeadLetterReason } from '../consumer/dead-letter.js';
import { GroupStats } from './group-stats.js';
import type { AttemptInfo, AttemptOutcome, TrimReason, WatchedConsumer } from './instrumentation.js';
import { consumerMetricSet, type ConsumerMetricSet } from './metric-set.js';
import type { ResolvedMetricsOptions } from '../options/observability.js';
import type { CounterSeries, HistogramSeries } from './series-metrics.js';

// Every reason the consumer knows (a Record, so a new reason fails to compile until it is listed here):
// their series exist at 0 from the start, so the first dead letter of each shows in increase() and rate().
const REASONS: Record<DeadLetterReason, true> = {
  decode: true, 'max-attempts': true, unrecoverable: true, manual: true, validation: true, deadline: true, interrupted: true,
};

const TRIM_REASONS: readonly TrimReason[] = ['unread', 'pending'];

/** One stream's metrics with their labels bound: looked up and validated once, not on every event. */
interface StreamMetrics {
  success: CounterSeries;
  failure: CounterSeries;
  duration: HistogramSeries;
  latency: HistogramSeries;
}

/** The Prometheus half of a server's instrumentation: counters and histograms per event, gauges on scrape. */
export class ConsumerMetrics {
  private readonly byStream = new Map<string, StreamMetrics>();
  /** Handler calls between attempt() and end(): the handlers-in-flight gauge. */
  private running = 0;

  static async create(group: string, options: ResolvedMetricsOptions): Promise<ConsumerMetrics> {
    return new ConsumerMetrics(group, options, await consumerMetricSet(options));
  }

  private constructor(
    private readonly group: string,
    private readonly options: ResolvedMetricsOptions,
    private readonly metrics: ConsumerMetricSet,
  ) {}

  started(): void {
    this.running++;
  }

  /** One handler call ended, `startedAt` its performance.now() at the start. */
  ended(info: AttemptInfo, outcomes: readonly AttemptOutcome[], startedAt: number): void {
    this.running--;
    const m = this.of(info.stream);
    const { processDuration, deliveryLatency } = this.metrics;
    const now = Date.now();
    const seconds = (performance.now() - startedAt) / 1000;
    for (let i = 0; i < outcomes.length; i++) {
      (outcomes[i] === 'success' ? m.success : m.failure).value++;
      processDuration.observe(m.duration, seconds);
      // The id's first part is the time Redis added the entry, in ms: latency needs no field of its own.
      const addedAt = Number.parseInt(info.entries[i]?.id ?? '', 10);
      if (addedAt > 0) deliveryLatency.observe(m.latency, Math.max(0, now - addedAt) / 1000);
    }
  }

  deadLettered(stream: string, reason: string): void {
    this.metrics.deadLettered.inc({ stream, group: this.group, reason });
  }

  claimed(stream: string, count: number): void {
    if (count > 0) this.metrics.claimed.inc({ stream, group: this.group }, count);
  }

  retentionTrimmed(stream: string, safe: number, hard: number): void {
    if (safe > 0) this.metrics.retentionTrimmed.inc({ stream, group: this.group, kind: 'safe' }, safe);
    if (hard > 0) this.metrics.retentionTrimmed.inc({ stream, group: this.group, kind: 'hard' }, hard);
  }

  lateCompletion(stream: string): void {
    this.metrics.lateCompletions.inc({ stream, group: this.group });
  }

  trimmed(stream: string, reason: TrimReason, count: number): void {
    if (count > 0) this.metrics.trimmed.inc({ stream, group: this.group, reason }, count);
  }

  watch(consumer: WatchedConsumer): () => void {
    for (const stream of consumer.streams) {
      this.of(stream);
      // Series at 0 from the start: rate() and increase() only see increments of a series that existed before.
      // Every stream gets them, so the dashboard's queries answer 0 rather than nothing where a feature is off.
      this.metrics.claimed.child({ stream, group: this.group });
      this.metrics.lateCompletions.child({ stream, group: this.group });
      for (const kind of ['safe', 'hard']) this.metrics.retentionTrimmed.child({ stream, group: this.group, kind });
      for (const reason of TRIM_REASONS) this.metrics.trimmed.child({ stream, group: this.group, reason });
      for (const reason of Object.keys(REASONS)) this.metrics.deadLettered.child({ stream, group: this.group, reason });
    }
    const stats = new GroupStats(consumer, this.options.refreshMs, this.options.refreshTimeoutMs);
    return this.metrics.watch({ group: this.group, stats, inFlight: () => this.running });
  }

  private of(stream: string): StreamMetrics {
    let m = this.byStream.get(stream);
    if (!m) {
      const labels = { stream, group: this.group };
      m = {
        success: this.metrics.processed.child({ ...labels, outcome: 'success' }),
        failure: this.metrics.processed.child({ ...labels, outcome: 'failure' }),
        duration: this.metrics.processDuration.child(labels),
        latency: this.metrics.deliveryLatency.child(labels),
      };
      this.byStream.set(stream, m);
    }
    return m;
  }
}
