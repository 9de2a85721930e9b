import type { StreamStatus, StreamsStatus } from '@nestream/transport/admin';

/** A group in an overview row (for a partitioned pattern: summed over its partitions). */
export interface OverviewGroup {
  name: string;
  pending: number;
  /** Null when Redis cannot tell for some stream (after XGROUP SETID or deletions). */
  lag: number | null;
  consumers: number;
  /** Entries delivered per second since the previous reading; null when unknown. */
  outPerSec: number | null;
}

/** One line of the overview: a stream, or every partition of one pattern (`<pattern>:{i}`) together. */
export interface OverviewRow {
  kind: 'stream' | 'partitioned';
  /** The stream name, or the pattern of the partitions. */
  name: string;
  length: number;
  deadLetters: number;
  /**
   * Delayed emits waiting in the stream's schedule (summed over the partitions of a partitioned row); null when
   * the board's Redis user may not read a schedule.
   */
  scheduled: number | null;
  lastId: string | null;
  groups: OverviewGroup[];
  /** Entries added per second since the previous reading; null when unknown. */
  inPerSec: number | null;
  /** The last readings of `inPerSec` (oldest first), for a sparkline. */
  history: number[];
  /** The partitions of a partitioned row (each a stream row), in index order; empty for a stream. */
  partitions: OverviewRow[];
}

export interface Overview {
  at: string;
  keyPrefix: string;
  /** Reply streams of request-reply clients: counted, not listed. */
  replyStreams: number;
  /** Streams read (partitions counted one by one). */
  streamCount: number;
  rows: OverviewRow[];
}

export interface StreamRate {
  inPerSec: number | null;
  groups: Record<string, number | null>;
  history: number[];
}

const PARTITION = /^(.+):\{(\d{1,4})\}$/;

/**
 * Builds the overview rows: streams in name order, partitions of one pattern folded into one row. `scheduled`
 * holds each stream's count of delayed emits, by name.
 */
export function buildOverview(status: StreamsStatus, rates: Map<string, StreamRate>, scheduled = new Map<string, number | null>()): Overview {
  const patterns = new Map<string, Array<{ index: number; row: OverviewRow }>>();
  const rows: OverviewRow[] = [];
  for (const stream of status.streams) {
    const row = streamRow(stream, rates.get(stream.key), scheduled.has(stream.name) ? scheduled.get(stream.name)! : 0);
    const partition = PARTITION.exec(stream.name);
    if (!partition) {
      rows.push(row);
      continue;
    }
    const members = patterns.get(partition[1]) ?? [];
    members.push({ index: Number(partition[2]), row });
    patterns.set(partition[1], members);
  }
  for (const [pattern, members] of patterns) {
    // One stream named like a partition is just a stream.
    if (members.length === 1 && !rows.some(r => r.name === pattern)) rows.push(members[0].row);
    else rows.push(partitionedRow(pattern, members.sort((a, b) => a.index - b.index).map(m => m.row)));
  }
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { at: status.at, keyPrefix: status.keyPrefix, replyStreams: status.replyStreams, streamCount: status.streams.length, rows };
}

function streamRow(stream: StreamStatus, rate: StreamRate | undefined, scheduled: number | null): OverviewRow {
  return {
    kind: 'stream',
    name: stream.name,
    length: stream.length,
    deadLetters: stream.deadLetter?.length ?? 0,
    scheduled,
    lastId: stream.lastId,
    groups: stream.groups.map(g => ({
      name: g.name,
      pending: g.pending,
      lag: g.lag,
      consumers: g.consumers.length,
      outPerSec: rate?.groups[g.name] ?? null,
    })),
    inPerSec: rate?.inPerSec ?? null,
    history: rate?.history ?? [],
    partitions: [],
  };
}

function partitionedRow(pattern: string, partitions: OverviewRow[]): OverviewRow {
  const groups = new Map<string, OverviewGroup>();
  for (const p of partitions) {
    for (const g of p.groups) {
      const sum = groups.get(g.name);
      if (!sum) groups.set(g.name, { ...g });
      else {
        sum.pending += g.pending;
        sum.lag = sum.lag === null || g.lag === null ? null : sum.lag + g.lag;
        sum.consumers += g.consumers;
        sum.outPerSec = addRates(sum.outPerSec, g.outPerSec);
      }
    }
  }
  const longest = Math.max(0, ...partitions.map(p => p.history.length));
  const history = Array.from({ length: longest }, (_, i) =>
    partitions.reduce((total, p) => total + (p.history[i - (longest - p.history.length)] ?? 0), 0),
  );
  return {
    kind: 'partitioned',
    name: pattern,
    length: partitions.reduce((n, p) => n + p.length, 0),
    deadLetters: partitions.reduce((n, p) => n + p.deadLetters, 0),
    scheduled: partitions.reduce<number | null>((n, p) => (n === null || p.scheduled === null ? null : n + p.scheduled), 0),
    lastId: null,
    groups: [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    inPerSec: partitions.reduce<number | null>((n, p) => addRates(n, p.inPerSec), 0),
    history,
    partitions,
  };
}

function addRates(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}
