import { isCluster, pipelineBySlot, type RedisClient } from '../redis/redis-client.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { compareEntryIds } from './entry-id.js';
import { parseConsumers, parseGroups, parseStreamInfo, requireStream, type GroupInfo, type StreamInfo } from './stream-info.js';

/** A consumer of a group. */
export interface ConsumerStatus {
  name: string;
  /** Entries delivered to it and not acked yet. */
  pending: number;
  /** Milliseconds since its last read, claim or ack. */
  idleMs: number;
}

/** A consumer group of a stream. */
export interface GroupStatus {
  name: string;
  /** Entries delivered and not acked yet (all consumers). */
  pending: number;
  /** Entries not delivered to the group yet; null when Redis cannot tell (after XGROUP SETID or deletions). */
  lag: number | null;
  /** Entries delivered to the group so far; null when Redis cannot tell. */
  entriesRead: number | null;
  lastDeliveredId: string;
  /** Its oldest entry delivered and not acked yet (XPENDING), or null with nothing pending. */
  oldestPendingId: string | null;
  consumers: ConsumerStatus[];
}

/**
 * What safe retention (the consumers' `retention` option) keeps of a stream, and why: it trims only below the
 * oldest entry some group still needs (that group's oldest pending entry, or its read position).
 */
export interface RetainedFrom {
  /** Nothing from this id on is trimmed by retention. */
  id: string;
  /** The group that needs it: what holds the stream back. */
  group: string;
}

/** A stream's dead-letter stream. */
export interface DeadLetterStreamStatus {
  key: string;
  /** Dead letters in it. */
  length: number;
  /** Id of the oldest and newest dead letter (their millisecond part is when they were dead-lettered); null when empty. */
  firstId: string | null;
  lastId: string | null;
}

/** A stream with its groups and dead letters. */
export interface StreamStatus {
  /** The name the transport's patterns use (the key without `keyPrefix`). */
  name: string;
  key: string;
  length: number;
  /** Id of the last entry ever added. */
  lastId: string;
  /** Entries ever added (Redis 7+; null before). */
  entriesAdded: number | null;
  groups: GroupStatus[];
  /** Null when the stream has no dead-letter stream (nothing dead-lettered yet). */
  deadLetter: DeadLetterStreamStatus | null;
  /** Where safe retention stops, and which group holds it there; null without groups (retention trims nothing then). */
  retainedFrom: RetainedFrom | null;
}

/** What `StreamsAdmin.status()` reports. */
export interface StreamsStatus {
  /** When it was read (ISO time). */
  at: string;
  keyPrefix: string;
  /** Streams in name order; dead-letter streams are shown with their source stream, not on their own. */
  streams: StreamStatus[];
  /** Reply streams of request-reply clients (`nestream:replies:*`): counted, not listed. */
  replyStreams: number;
}

/** Reads the status of the named streams, or of every stream under the key prefix. */
export async function readStatus(redis: RedisClient, options: ResolvedAdminOptions, names?: string[]): Promise<StreamsStatus> {
  const at = new Date().toISOString();
  const prefix = options.keyPrefix;
  const replyPrefix = `${prefix}nestream:replies:`;
  let keys: string[];
  let replyStreams = 0;
  if (names && names.length > 0) {
    keys = names.map(n => prefix + n);
    for (let i = 0; i < keys.length; i++) await requireStream(redis, keys[i], names[i]);
  } else {
    const all = await scanStreams(redis, prefix);
    keys = all.filter(k => !k.startsWith(replyPrefix));
    replyStreams = all.length - keys.length;
  }
  const dlKeys = new Map(keys.map(k => [k, options.deadLetterKey(k)]));
  // A scan found every dead-letter stream there is already; named streams need theirs looked up.
  const infos = await readStreamInfos(redis, names && names.length > 0 ? [...new Set([...keys, ...dlKeys.values()])] : keys);
  const isDeadLetter = deadLetterTest(dlKeys);
  const shown = keys.filter(k => infos.has(k) && !isDeadLetter(k));
  const groups = await readAllConsumers(redis, shown.map(key => ({ key, groups: infos.get(key)!.groups })));

  const streams = shown.sort().map((key): StreamStatus => {
    const { stream } = infos.get(key)!;
    const dlKey = dlKeys.get(key)!;
    const dl = dlKey !== key ? infos.get(dlKey)?.stream : undefined;
    return {
      name: key.slice(prefix.length),
      key,
      length: stream.length,
      lastId: stream.lastGeneratedId,
      entriesAdded: stream.entriesAdded,
      groups: groups.get(key) ?? [],
      deadLetter: dl ? { key: dlKey, length: dl.length, firstId: dl.firstEntryId, lastId: dl.lastEntryId } : null,
      retainedFrom: retainedFrom(groups.get(key) ?? []),
    };
  });
  return { at, keyPrefix: prefix, streams, replyStreams };
}

/** The lowest floor of the groups, as retention-trim-1.lua computes it: oldest pending entry, else read position. */
function retainedFrom(groups: GroupStatus[]): RetainedFrom | null {
  let lowest: RetainedFrom | null = null;
  for (const g of groups) {
    const floor = g.oldestPendingId ?? g.lastDeliveredId;
    if (!lowest || compareEntryIds(floor, lowest.id) < 0) lowest = { id: floor, group: g.name };
  }
  return lowest;
}

/**
 * A dead-letter stream is shown in its source stream's row, not on its own: a key is one when it is the
 * dead-letter stream of a listed stream that is not a dead-letter stream itself (so `a:dlq:dlq`, the dead
 * letters of `a:dlq`, still shows).
 */
function deadLetterTest(dlKeys: Map<string, string>): (key: string) => boolean {
  const sourcesOf = new Map<string, string[]>();
  for (const [key, dl] of dlKeys) if (dl !== key) sourcesOf.set(dl, [...(sourcesOf.get(dl) ?? []), key]);
  const test = (key: string, depth: number): boolean =>
    depth < 8 && (sourcesOf.get(key) ?? []).some(source => !test(source, depth + 1));
  return key => test(key, 0);
}

/**
 * SCAN ... TYPE stream: every stream key under the prefix (SCAN may repeat a key; the Set drops repeats). A
 * cluster's keys are spread over its masters: each one is scanned.
 */
async function scanStreams(redis: RedisClient, prefix: string): Promise<string[]> {
  const found = new Set<string>();
  const match = `${prefix.replace(/[*?[\]\\]/g, c => `\\${c}`)}*`;
  // A lazy cluster connection knows its masters only once a first command has connected it.
  if (isCluster(redis) && redis.status !== 'ready') await redis.ping();
  for (const node of isCluster(redis) ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = (await node.call('SCAN', cursor, 'MATCH', match, 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]];
      for (const k of keys) found.add(k);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...found];
}

/** XINFO STREAM and XINFO GROUPS of every key, in one pipeline (per slot). Keys that vanished meanwhile are left out. */
async function readStreamInfos(redis: RedisClient, keys: string[]): Promise<Map<string, { stream: StreamInfo; groups: GroupInfo[] }>> {
  const results = await pipelineBySlot(redis, keys, key => key, (pipeline, key) => {
    pipeline.xinfo('STREAM', key);
    pipeline.xinfo('GROUPS', key);
  });
  const infos = new Map<string, { stream: StreamInfo; groups: GroupInfo[] }>();
  keys.forEach((key, i) => {
    const [streamErr, stream] = results[i][0];
    const [groupsErr, groups] = results[i][1];
    if (streamErr || groupsErr) return;
    infos.set(key, { stream: parseStreamInfo(stream as unknown[]), groups: parseGroups(groups as unknown[][]) });
  });
  return infos;
}

/** XINFO CONSUMERS and the XPENDING summary of every group, in one pipeline (per slot). */
async function readAllConsumers(redis: RedisClient, streams: Array<{ key: string; groups: GroupInfo[] }>): Promise<Map<string, GroupStatus[]>> {
  const pairs = streams.flatMap(({ key, groups }) => groups.map(group => ({ key, group })));
  const byKey = new Map<string, GroupStatus[]>();
  if (pairs.length === 0) return byKey;
  const results = await pipelineBySlot(redis, pairs, pair => pair.key, (pipeline, { key, group }) => {
    pipeline.xinfo('CONSUMERS', key, group.name);
    pipeline.xpending(key, group.name);
  });
  pairs.forEach(({ key, group }, i) => {
    const [err, rows] = results[i][0];
    const [pendingErr, summary] = results[i][1];
    const consumers = err ? [] : parseConsumers(rows as unknown[][]).sort((a, b) => compareNames(a.name, b.name));
    const oldestPendingId = pendingErr ? null : ((summary as [number, string | null])[1] ?? null);
    const { consumers: _count, ...rest } = group;
    const list = byKey.get(key) ?? [];
    list.push({ ...rest, oldestPendingId, consumers });
    byKey.set(key, list);
  });
  for (const list of byKey.values()) list.sort((a, b) => compareNames(a.name, b.name));
  return byKey;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
