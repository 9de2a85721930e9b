import type { StreamStatus, StreamsStatus } from '@nestream/transport/admin';
import { buildOverview, type StreamRate } from '../src/overview.js';

function stream(name: string, length: number, groups: Array<{ name: string; pending: number; lag: number | null; consumers?: number }>, deadLetters = 0): StreamStatus {
  return {
    name,
    key: name,
    length,
    lastId: `${length}-0`,
    entriesAdded: length,
    groups: groups.map(g => ({
      name: g.name, pending: g.pending, lag: g.lag, entriesRead: 0, lastDeliveredId: '0-0',
      consumers: Array.from({ length: g.consumers ?? 0 }, (_, i) => ({ name: `c${i}`, pending: 0, idleMs: 0 })),
    })),
    deadLetter: deadLetters ? { key: `${name}:dlq`, length: deadLetters, firstId: '1-0', lastId: '2-0' } : null,
  };
}

function status(streams: StreamStatus[]): StreamsStatus {
  return { at: '2026-12-07T00:00:00.000Z', keyPrefix: '', streams, replyStreams: 0 };
}

describe('buildOverview', () => {
  it('folds partitions of one pattern into a row summing entries, dead letters, pending, lag and consumers', () => {
    const { rows } = buildOverview(status([
      stream('clicks:{0}', 5, [{ name: 'stats', pending: 1, lag: 2, consumers: 1 }], 3),
      stream('clicks:{10}', 7, [{ name: 'stats', pending: 2, lag: 0, consumers: 1 }, { name: 'audit', pending: 0, lag: 7 }]),
      stream('clicks:{2}', 1, [{ name: 'stats', pending: 0, lag: 1, consumers: 2 }]),
      stream('orders', 4, []),
    ]), new Map());
    expect(rows.map(r => [r.kind, r.name])).toEqual([['partitioned', 'clicks'], ['stream', 'orders']]);
    expect(rows[0]).toMatchObject({ length: 13, deadLetters: 3, lastId: null });
    expect(rows[0].groups).toEqual([
      { name: 'audit', pending: 0, lag: 7, consumers: 0, outPerSec: null },
      { name: 'stats', pending: 3, lag: 3, consumers: 4, outPerSec: null },
    ]);
    // Partitions in index order, not name order ({10} after {2}).
    expect(rows[0].partitions.map(p => p.name)).toEqual(['clicks:{0}', 'clicks:{2}', 'clicks:{10}']);
  });

  it("says a partitioned group's lag is unknown when one partition's is", () => {
    const { rows } = buildOverview(status([
      stream('p:{0}', 1, [{ name: 'g', pending: 0, lag: 1 }]),
      stream('p:{1}', 1, [{ name: 'g', pending: 0, lag: null }]),
    ]), new Map());
    expect(rows[0].groups[0].lag).toBeNull();
  });

  it('keeps a lone stream named like a partition as a stream', () => {
    const { rows } = buildOverview(status([stream('odd:{1}', 2, [])]), new Map());
    expect(rows.map(r => [r.kind, r.name])).toEqual([['stream', 'odd:{1}']]);
  });

  it("sums the partitions' rates and aligns their histories on the newest reading", () => {
    const rates = new Map<string, StreamRate>([
      ['p:{0}', { inPerSec: 2, groups: {}, history: [1, 2, 2] }],
      ['p:{1}', { inPerSec: 3, groups: {}, history: [3] }],
    ]);
    const { rows } = buildOverview(status([stream('p:{0}', 1, []), stream('p:{1}', 1, [])]), rates);
    expect(rows[0].inPerSec).toBe(5);
    expect(rows[0].history).toEqual([1, 2, 5]);
  });
});

describe('buildOverview: delayed emits', () => {
  it("shows each stream's scheduled count, and a partitioned row's as the sum of its partitions'", () => {
    const scheduled = new Map([['p:{0}', 2], ['p:{1}', 3], ['orders', 4]]);
    const { rows } = buildOverview(status([stream('orders', 1, []), stream('p:{0}', 1, []), stream('p:{1}', 1, []), stream('quiet', 1, [])]), new Map(), scheduled);
    expect(rows.map(r => [r.name, r.scheduled])).toEqual([['orders', 4], ['p', 5], ['quiet', 0]]);
    expect(rows[1].partitions.map(p => p.scheduled)).toEqual([2, 3]);
  });

  it("says a partitioned row's count is unknown when one partition's is", () => {
    const { rows } = buildOverview(status([stream('p:{0}', 1, []), stream('p:{1}', 1, [])]), new Map(), new Map([['p:{0}', 2], ['p:{1}', null]]));
    expect(rows[0].scheduled).toBeNull();
  });
});
