import { statusRates } from '../../src/admin/rates.js';
import type { StreamsStatus, StreamStatus } from '../../src/admin/status.js';

function reading(at: string, entriesAdded: number | null, groups: Array<[string, number | null]>): StreamsStatus {
  const stream: StreamStatus = {
    name: 's', key: 's', length: 0, lastId: '0-0', entriesAdded, deadLetter: null,
    groups: groups.map(([name, entriesRead]) => ({ name, entriesRead, pending: 0, lag: 0, lastDeliveredId: '0-0', consumers: [] })),
  };
  return { at, keyPrefix: '', replyStreams: 0, streams: [stream] };
}

describe('statusRates', () => {
  it('should give events/s in per stream and out per group between two readings', () => {
    const rates = statusRates(
      reading('2025-01-01T00:00:00.000Z', 100, [['a', 50], ['b', null], ['gone', 1]]),
      reading('2025-01-01T00:00:02.000Z', 300, [['a', 150], ['b', 10], ['new', 5]]),
    );
    expect(rates).toEqual({ s: { inPerSec: 100, groups: { a: { outPerSec: 50 }, b: { outPerSec: null } } } });
  });

  it('should give no rate for a counter that went back (stream recreated) or no time elapsed', () => {
    expect(statusRates(reading('2025-01-01T00:00:00.000Z', 100, []), reading('2025-01-01T00:00:01.000Z', 3, [])).s.inPerSec).toBeNull();
    expect(statusRates(reading('2025-01-01T00:00:00.000Z', 1, []), reading('2025-01-01T00:00:00.000Z', 2, []))).toEqual({});
  });
});
