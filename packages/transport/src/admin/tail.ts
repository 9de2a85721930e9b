import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { groupBySlot, isCluster, type RedisClient } from '../redis/redis-client.js';
import { DecodeError } from '../errors/decode.error.js';
import { decode, type DecodedMessage } from '../wire/codec.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { compareEntryIds } from './entry-id.js';
import { parseStreamInfo, requireStream } from './stream-info.js';

export interface TailOptions {
  /** Stops following (the iteration ends) when aborted. */
  signal?: AbortSignal;
  /** XREAD BLOCK time; the loop wakes this often to notice `signal`. @default 2000 */
  blockMs?: number;
  /** Called once the start ids are read: every entry added from then on is yielded. */
  onStart?: () => void;
}

/** An entry seen by `tail()`. */
export interface TailEntry {
  /** Stream name (the key without `keyPrefix`) and key. */
  stream: string;
  key: string;
  id: string;
  fields: Record<string, string>;
  /** Decoded with the wire codec; null when it does not decode (`decodeError` says why). */
  message: DecodedMessage | null;
  decodeError: string | null;
}

const DEFAULT_BLOCK_MS = 2000;
const READ_COUNT = 100;

/**
 * Follows new entries of streams with XREAD BLOCK, starting after each stream's last entry: like a consumer
 * group without one (nothing is acked, no group or consumer is created). Uses its own connection, as a
 * blocked XREAD holds the one it runs on.
 */
export async function* tail(redis: RedisClient, options: ResolvedAdminOptions, streams: string[], opts: TailOptions = {}): AsyncGenerator<TailEntry> {
  const names = [...new Set(streams)];
  const keys = names.map(n => options.keyPrefix + n);
  if (isCluster(redis) && groupBySlot(keys, key => key).length > 1) {
    // One XREAD may only name keys of one slot; following several slots would need a reader per slot.
    throw new InvalidOptionsError('streams', `on a Redis Cluster, tail follows streams of one hash slot at a time (${keys.join(', ')} are in ${groupBySlot(keys, key => key).length} slots): tail each stream on its own`);
  }
  const ids: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    await requireStream(redis, keys[i], names[i]);
    // The last id now, not `$`: `$` on every call would miss entries added between two calls.
    ids.push(parseStreamInfo((await redis.xinfo('STREAM', keys[i])) as unknown[]).lastGeneratedId);
  }
  // No commandTimeout: a blocked XREAD is meant to wait.
  const reader = isCluster(redis)
    ? redis.duplicate([], { lazyConnect: true, redisOptions: { ...redis.options.redisOptions, connectionName: 'nestream:admin-tail', commandTimeout: undefined } })
    : redis.duplicate({ connectionName: 'nestream:admin-tail', lazyConnect: true, commandTimeout: undefined });
  reader.on('error', () => undefined); // failures surface as the XREAD's rejection
  opts.onStart?.();
  const stop = () => reader.disconnect();
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    while (!opts.signal?.aborted) {
      let reply: Array<[string, Array<[string, string[]]>]> | null;
      try {
        reply = (await reader.xread('COUNT', READ_COUNT, 'BLOCK', opts.blockMs ?? DEFAULT_BLOCK_MS, 'STREAMS', ...keys, ...ids)) as typeof reply;
      } catch (err) {
        if (opts.signal?.aborted) return;
        throw err;
      }
      // XREAD groups entries by stream; an operator reads them in the order they were added.
      const batch: TailEntry[] = [];
      for (const [key, entries] of reply ?? []) {
        const index = keys.indexOf(key);
        for (const [id, flat] of entries) batch.push(toTailEntry(names[index], key, id, flat));
        if (entries.length > 0) ids[index] = entries[entries.length - 1][0];
      }
      yield* batch.sort((a, b) => compareEntryIds(a.id, b.id));
    }
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    reader.disconnect();
  }
}

function toTailEntry(stream: string, key: string, id: string, flat: string[]): TailEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  try {
    return { stream, key, id, fields, message: decode(flat), decodeError: null };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { stream, key, id, fields, message: null, decodeError: err.message };
  }
}
