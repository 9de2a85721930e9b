import type { Gauge, Registry } from 'prom-client';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { GroupSnapshot, GroupStats } from './group-stats.js';
import { commonJsExports, loadPeer } from './load-peer.js';
import { METRIC_NAMES } from './metric-names.js';
import type { ResolvedMetricsOptions } from '../options/observability.js';
import { SeriesCounter, SeriesHistogram } from './series-metrics.js';

type PromClient = typeof import('prom-client');

/** A running consumer as the gauges see it. */
export interface GaugeSource {
  group: string;
  stats: GroupStats;
  /** Handler calls running now. */
  inFlight(): number;
}

export interface ConsumerMetricSet {
  processed: SeriesCounter;
  deadLettered: SeriesCounter;
  claimed: SeriesCounter;
  retentionTrimmed: SeriesCounter;
  lateCompletions: SeriesCounter;
  trimmed: SeriesCounter;
  processDuration: SeriesHistogram;
  deliveryLatency: SeriesHistogram;
  /** Add a running consumer to the gauges; returns its removal. */
  watch(source: GaugeSource): () => void;
}

// The consumers behind each gauge, kept on the process (not the module), so that several servers, or two
// copies of this package, sharing one registry feed the same gauges instead of failing with "already registered".
const SOURCES_KEY = Symbol.for('nestream.metrics.gaugeSources');
const globals = globalThis as { [SOURCES_KEY]?: WeakMap<object, Set<GaugeSource>> };
const sourcesByGauge = (globals[SOURCES_KEY] ??= new WeakMap());

function registryOf(prom: PromClient, options: ResolvedMetricsOptions): Registry {
  return (options.registry as Registry | undefined) ?? prom.register;
}

/**
 * The metric of `name` in the registry: the one registered before (by another server or client of the
 * process) or a new one. Something else registered under the name with other labels is an error.
 */
function reuseOrCreate<M>(registry: Registry, name: string, type: string, labelNames: readonly string[], create: () => M, ours: (m: object) => boolean): M {
  const existing = registry.getSingleMetric(name) as { type?: string; labelNames?: readonly string[] } | undefined;
  if (!existing) return create();
  const sameLabels = [...(existing.labelNames ?? [])].sort().join() === [...labelNames].sort().join();
  if (existing.type !== type || !sameLabels || !ours(existing)) {
    throw new InvalidOptionsError('metrics.registry', `has a metric "${name}" that is not nestream's (${existing.type} with labels ${String(existing.labelNames)})`);
  }
  return existing as M;
}

// Duck-typed, not instanceof: another copy of this package in the process makes the same metrics.
const isSeriesMetric = (m: object) => typeof (m as { child?: unknown }).child === 'function';

function counter(registry: Registry, name: string, help: string, labelNames: string[]): SeriesCounter {
  return reuseOrCreate(registry, name, 'counter', labelNames, () => {
    const created = new SeriesCounter(name, help, labelNames);
    registry.registerMetric(created as never);
    return created;
  }, isSeriesMetric);
}

/** Buckets are those of the first server or client that registers the histogram in the registry. */
function histogram(registry: Registry, name: string, help: string, labelNames: string[], buckets: number[]): SeriesHistogram {
  return reuseOrCreate(registry, name, 'histogram', labelNames, () => {
    const created = new SeriesHistogram(name, help, labelNames, buckets);
    registry.registerMetric(created as never);
    return created;
  }, isSeriesMetric);
}

/**
 * A gauge set from the running consumers on each scrape (prom-client calls `collect` before reading it).
 * `rows` picks its values out of one consumer's snapshot; rows with equal labels are summed when `sum`
 * (handlers in flight of one group in several servers), otherwise the last wins (the same stream seen twice).
 */
function gauge<L extends string>(
  prom: PromClient,
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  rows: (snapshot: GroupSnapshot, source: GaugeSource) => Array<[Record<L, string>, number]>,
  options: { sum?: boolean; fromRedis: boolean },
): Gauge<L> {
  const metric = reuseOrCreate(registry, name, 'gauge', labelNames, () => {
    const created: Gauge<L> = new prom.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const sources = [...(sourcesByGauge.get(created) ?? [])];
        const snapshots = options.fromRedis ? await Promise.all(sources.map(s => s.stats.read())) : [];
        created.reset();
        sources.forEach((source, i) => {
          for (const [labels, value] of rows(snapshots[i], source)) {
            if (options.sum) created.inc(labels, value);
            else created.set(labels, value);
          }
        });
      },
    });
    sourcesByGauge.set(created, new Set());
    return created;
  }, m => sourcesByGauge.has(m));
  return metric;
}

async function promClient(): Promise<PromClient> {
  return commonJsExports<PromClient>(await loadPeer('prom-client', 'metrics'));
}

/** The client's metric: entries XADDed. */
export async function producerMetricSet(options: ResolvedMetricsOptions): Promise<SeriesCounter> {
  const prom = await promClient();
  return counter(registryOf(prom, options), METRIC_NAMES.sent, 'Entries added to a stream by emit(), send() and emitMany().', ['stream']);
}

/** The server's metrics, shared with every other server using the same registry. */
export async function consumerMetricSet(options: ResolvedMetricsOptions): Promise<ConsumerMetricSet> {
  const prom = await promClient();
  const registry = registryOf(prom, options);
  const n = METRIC_NAMES;
  const gauges = [
    gauge(prom, registry, n.groupPending, 'Entries delivered to the group and not acknowledged yet (XINFO GROUPS pending).', ['stream', 'group'],
      s => s.pending.map(([stream, group, v]) => [{ stream, group }, v]), { fromRedis: true }),
    gauge(prom, registry, n.groupLag, 'Entries of the stream not delivered to the group yet (XINFO GROUPS lag).', ['stream', 'group'],
      s => s.lag.map(([stream, group, v]) => [{ stream, group }, v]), { fromRedis: true }),
    gauge(prom, registry, n.streamLength, 'Entries in the stream (XLEN).', ['stream'],
      s => s.length.map(([stream, v]) => [{ stream }, v]), { fromRedis: true }),
    gauge(prom, registry, n.deadLetterLength, "Entries in the stream's dead-letter stream (XLEN of <stream>:dlq).", ['stream'],
      s => s.deadLetters.map(([stream, v]) => [{ stream }, v]), { fromRedis: true }),
    gauge(prom, registry, n.handlersInFlight, 'Handler calls running now.', ['group'],
      (_, source) => [[{ group: source.group }, source.inFlight()]], { sum: true, fromRedis: false }),
  ];
  return {
    processed: counter(registry, n.processed, 'Handler calls per entry, by outcome (success or failure); a batch handler counts each entry.', ['stream', 'group', 'outcome']),
    deadLettered: counter(registry, n.deadLettered, 'Entries moved to the dead-letter stream (or dropped with deadLetter: false), by reason.', ['stream', 'group', 'reason']),
    claimed: counter(registry, n.claimed, 'Entries taken over from another consumer (crashed or stuck).', ['stream', 'group']),
    retentionTrimmed: counter(registry, n.retentionTrimmed, 'Entries trimmed by retention: kind="safe" read and acked by every group, kind="hard" by hardMaxLen, read or not.', ['stream', 'group', 'kind']),
    lateCompletions: counter(registry, n.lateCompletions, "Handler calls of an ordered partition that ended after this consumer's lease on the partition was lost (another consumer may have run it meanwhile).", ['stream', 'group']),
    trimmed: counter(registry, n.trimmed, 'Entries trimmed or deleted before they were handled: reason unread (never read by the group) or pending (read, not settled).', ['stream', 'group', 'reason']),
    processDuration: histogram(registry, n.processDuration, 'Handler time per entry, in seconds (a batch call counts once per entry).', ['stream', 'group'], options.durationBuckets),
    deliveryLatency: histogram(registry, n.deliveryLatency, "From the entry's id time (when Redis added it) to the end of its handler call, in seconds.", ['stream', 'group'], options.latencyBuckets),
    watch(source) {
      for (const g of gauges) sourcesByGauge.get(g)!.add(source);
      return () => {
        for (const g of gauges) sourcesByGauge.get(g)!.delete(source);
      };
    },
  };
}
