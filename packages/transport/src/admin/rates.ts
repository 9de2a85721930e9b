import type { StreamsStatus } from './status.js';

/** Events per second between two status readings. Null where either reading lacks the counter. */
export interface StreamRates {
  /** Entries added to the stream per second (XINFO STREAM entries-added). */
  inPerSec: number | null;
  /** Per group: entries delivered to it per second (XINFO GROUPS entries-read). */
  groups: Record<string, { outPerSec: number | null }>;
}

/**
 * Rates from two `status()` readings of the same streams (`status --watch` shows them): in = entries
 * added, out = entries delivered to each group, per second. Keyed by stream key; streams or groups
 * missing from either reading are left out.
 */
export function statusRates(previous: StreamsStatus, current: StreamsStatus): Record<string, StreamRates> {
  const seconds = (Date.parse(current.at) - Date.parse(previous.at)) / 1000;
  const rates: Record<string, StreamRates> = {};
  if (!(seconds > 0)) return rates;
  const before = new Map(previous.streams.map(s => [s.key, s]));
  for (const stream of current.streams) {
    const old = before.get(stream.key);
    if (!old) continue;
    const groups: StreamRates['groups'] = {};
    for (const group of stream.groups) {
      const oldGroup = old.groups.find(g => g.name === group.name);
      if (oldGroup) groups[group.name] = { outPerSec: perSecond(oldGroup.entriesRead, group.entriesRead, seconds) };
    }
    rates[stream.key] = { inPerSec: perSecond(old.entriesAdded, stream.entriesAdded, seconds), groups };
  }
  return rates;
}

function perSecond(before: number | null, after: number | null, seconds: number): number | null {
  if (before === null || after === null || after < before) return null; // reset (stream deleted, SETID)
  return (after - before) / seconds;
}
