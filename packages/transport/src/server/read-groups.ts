import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { Route } from '../consumer/route.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { groupBySlot, isClusterConnection, slotOf } from '../redis/redis-client.js';

/**
 * The streams each blocking reader reads together. One Redis: all of them in one XREADGROUP. A cluster: one
 * group per slot, each with its own reader (a command may only touch keys of one slot). On a cluster a stream
 * and its dead-letter stream must share a slot, since the dead-letter move is one atomic script: a layout
 * that breaks this is an InvalidOptionsError here, at listen(), not a CROSSSLOT at the first failure.
 */
export function readGroupsOf(routes: Array<Pick<Route, 'stream' | 'deadLetterKey'>>, options: Pick<ResolvedServerOptions, 'connection'>): string[][] {
  const streams = routes.map(route => route.stream);
  if (!isClusterConnection(options.connection)) return [streams];
  for (const { stream, deadLetterKey } of routes) {
    const dlq = deadLetterKey ?? stream;
    if (slotOf(dlq) !== slotOf(stream)) {
      throw new InvalidOptionsError(
        'deadLetter',
        `on a Redis Cluster a stream and its dead-letter stream must hash to one slot (a dead letter is moved by one atomic script): "${stream}" (slot ${slotOf(stream)}) and "${dlq}" (slot ${slotOf(dlq)}) do not. ` +
          `Put a hash tag in the pattern, e.g. '{orders}.placed' (dead letters in '{orders}.placed:dlq'), or give deadLetter.key a key with the stream's tag`,
      );
    }
  }
  return streams.length === 0 ? [[]] : groupBySlot(streams, stream => stream);
}
