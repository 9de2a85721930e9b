import type { RedisClient } from '../redis/redis-client.js';
import { fieldMap, isNoGroup } from '../redis/replies.js';
import { StreamsAdminError } from './streams-admin.error.js';

/** XINFO STREAM, the parts the admin uses. */
export interface StreamInfo {
  length: number;
  lastGeneratedId: string;
  /** Entries ever added (Redis 7+; null before). */
  entriesAdded: number | null;
  firstEntryId: string | null;
  lastEntryId: string | null;
}

/** A row of XINFO GROUPS. */
export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  /** Entries delivered to the group so far (Redis 7+; null when Redis cannot tell, e.g. after XGROUP SETID). */
  entriesRead: number | null;
  /** Entries not yet delivered to the group (Redis 7+; null when Redis cannot tell). */
  lag: number | null;
}

/** A row of XINFO CONSUMERS. */
export interface ConsumerInfo {
  name: string;
  pending: number;
  /** Since the consumer's last attempted interaction (read, claim, ack). */
  idleMs: number;
}

/** Fails with a clear StreamsAdminError unless `key` holds a stream. `name` is what the caller typed. */
export async function requireStream(redis: RedisClient, key: string, name: string): Promise<void> {
  const type = await redis.type(key);
  if (type === 'none') throw new StreamsAdminError('unknown-stream', `Stream "${name}" does not exist (key ${key})`);
  if (type !== 'stream') throw new StreamsAdminError('not-a-stream', `Key ${key} is a ${type}, not a stream`);
}

export function parseStreamInfo(reply: unknown[]): StreamInfo {
  const info = fieldMap(reply);
  const first = info['first-entry'] as [string, string[]] | null;
  const last = info['last-entry'] as [string, string[]] | null;
  return {
    length: Number(info.length),
    lastGeneratedId: String(info['last-generated-id']),
    entriesAdded: numberOrNull(info['entries-added']),
    firstEntryId: first ? first[0] : null,
    lastEntryId: last ? last[0] : null,
  };
}

export function parseGroups(reply: unknown[][]): GroupInfo[] {
  return reply.map(row => {
    const info = fieldMap(row);
    return {
      name: String(info.name),
      consumers: Number(info.consumers),
      pending: Number(info.pending),
      lastDeliveredId: String(info['last-delivered-id']),
      entriesRead: numberOrNull(info['entries-read']),
      lag: numberOrNull(info.lag),
    };
  });
}

export function parseConsumers(reply: unknown[][]): ConsumerInfo[] {
  return reply.map(row => {
    const info = fieldMap(row);
    return { name: String(info.name), pending: Number(info.pending), idleMs: Number(info.idle) };
  });
}

export async function readGroups(redis: RedisClient, key: string): Promise<GroupInfo[]> {
  return parseGroups((await redis.xinfo('GROUPS', key)) as unknown[][]);
}

/** The consumers of a group; a `unknown-group` StreamsAdminError when the group does not exist. */
export async function readConsumers(redis: RedisClient, key: string, group: string): Promise<ConsumerInfo[]> {
  try {
    return parseConsumers((await redis.xinfo('CONSUMERS', key, group)) as unknown[][]);
  } catch (err) {
    if (isNoGroup(err)) throw new StreamsAdminError('unknown-group', `Stream ${key} has no consumer group "${group}"`);
    throw err;
  }
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
