import { statusRates, type StreamsStatus } from '@nestream/transport/admin';
import type { StreamRate } from './overview.js';

/** Readings kept per stream for its sparkline. */
const HISTORY_LENGTH = 30;

/**
 * Rates between consecutive overview readings, and the last few of each stream for a sparkline. Kept in
 * memory by the board (nothing written to Redis); it advances only while someone looks at the overview.
 */
export class RateHistory {
  private previous: StreamsStatus | undefined;
  private readonly rates = new Map<string, StreamRate>();

  /** Adds a reading; returns every stream's current rate and history. */
  add(status: StreamsStatus): Map<string, StreamRate> {
    if (this.previous) {
      const current = statusRates(this.previous, status);
      const seen = new Set<string>();
      for (const [key, rate] of Object.entries(current)) {
        seen.add(key);
        const history = [...(this.rates.get(key)?.history ?? []), rate.inPerSec ?? 0].slice(-HISTORY_LENGTH);
        const groups = Object.fromEntries(Object.entries(rate.groups).map(([name, g]) => [name, g.outPerSec]));
        this.rates.set(key, { inPerSec: rate.inPerSec, groups, history });
      }
      // Streams gone since: forget them.
      for (const key of [...this.rates.keys()]) if (!seen.has(key)) this.rates.delete(key);
    }
    this.previous = status;
    return this.rates;
  }
}
