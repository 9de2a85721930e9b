import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, UnrecoverableEventError, type ConnectionOptions, type RedisStreamsServerOptions } from '@nestream/transport';
import type { Cluster, Redis } from 'ioredis';
import { startApp, type TestApp } from './nest-app.js';
import { uniqueName, waitFor } from './wait.js';

/**
 * Entries of thousands of fields (issue 19, item 2), on one Redis or a Redis Cluster: what a consumer does with
 * them, and what their dead letters hold. One XADD from a Lua script takes at most about 8,000 values.
 */
export interface WideEntryEnv {
  /** A plain client of the Redis (or cluster) under test. */
  redis: Redis | Cluster;
  connection: ConnectionOptions;
  /** Where started apps go (closed after the test). */
  apps: TestApp[];
}

const f = DEAD_LETTER_FIELDS;
/** Fields a dead letter keeps as they are (dead-letter-copy.lua); the rest are in dlq.fields.rest. */
export const COPIED_AS_IS = 1000;

/** A stream of its own with a hash tag, so its dead-letter stream shares its slot on a cluster. */
export const wideStream = () => `{${uniqueName('wide')}}.events`;

/** `data` ({"n": n}) and `fields - 1` more fields of `valueBytes` each, names f1, f2, ... */
export function wideEntry(n: number, fields: number, valueBytes = 16): string[] {
  const flat = ['data', JSON.stringify({ n })];
  for (let i = 1; i < fields; i++) flat.push(`f${i}`, String(i).padStart(valueBytes, 'x'));
  return flat;
}

/** Adds `flat` (thousands of values: one command from a client has no Lua limit). */
export async function addEntry(redis: Redis | Cluster, stream: string, flat: string[]): Promise<string> {
  return (await redis.xadd(stream, '*', ...flat)) as string;
}

export async function rawEntries(redis: Redis | Cluster, key: string): Promise<Array<[id: string, fields: string[]]>> {
  return (await redis.xrange(key, '-', '+')) as Array<[string, string[]]>;
}

/**
 * A dead letter's fields put back together: the ones copied as they are, then those kept in dlq.fields.rest,
 * without the dlq.* ones (what a redrive puts back). Also its dlq.* fields.
 */
export function readDeadLetter(flat: string[]): { fields: string[]; dlq: Record<string, string> } {
  const fields: string[] = [];
  const dlq: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i].startsWith('dlq.')) dlq[flat[i]] = flat[i + 1];
    else fields.push(flat[i], flat[i + 1]);
  }
  if (dlq[f.restFields] !== undefined) fields.push(...(JSON.parse(dlq[f.restFields]) as string[]));
  return { fields, dlq };
}

export async function pendingOf(redis: Redis | Cluster, stream: string, group = 'g'): Promise<number> {
  return ((await redis.xpending(stream, group)) as [number])[0];
}

export interface WideReadCase {
  /** Fields of the wide entry. */
  fields: number;
  boundedReads: boolean;
  /** maxPayloadBytes below the wide entry's size: dead-lettered for its size (inside Redis with boundedReads). */
  oversized?: boolean;
}

/**
 * One read of three entries, the middle one wide: it is dead-lettered with reason `decode`, every field kept
 * (dlq.fields.rest past the first 1,000), and the two others are handled at once: not stranded in the
 * pending list until a claim (claim.minIdleMs is longer than the wait). Returns the dead letter's id.
 */
export async function wideEntryInOneRead(env: WideEntryEnv, c: WideReadCase): Promise<{ stream: string; deadLetterId: string; source: string[] }> {
  const stream = wideStream();
  const handled: number[] = [];
  @Controller()
  class Events {
    @EventPattern(stream)
    handle(@Payload() data: { n: number }) {
      handled.push(data.n);
    }
  }
  const wide = wideEntry(2, c.fields);
  const wideBytes = wide.reduce((n, s) => n + Buffer.byteLength(s), 0);
  await env.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  await addEntry(env.redis, stream, ['data', '{"n":1}']);
  const wideId = await addEntry(env.redis, stream, wide);
  await addEntry(env.redis, stream, ['data', '{"n":3}']);
  const options: RedisStreamsServerOptions = {
    connection: env.connection,
    group: 'g',
    boundedReads: c.boundedReads,
    claim: { minIdleMs: 120_000 },
    ...(c.oversized ? { maxPayloadBytes: Math.floor(wideBytes / 2) } : {}),
  };
  env.apps.push(await startApp([Events], options));
  await waitFor(() => handled.length === 2, 'the two other entries of the read handled', 15_000);
  await waitFor(async () => (await env.redis.xlen(`${stream}:dlq`)) === 1, 'the wide entry dead-lettered', 15_000);
  await waitFor(async () => (await pendingOf(env.redis, stream)) === 0, 'nothing pending', 15_000);
  expect(handled.sort()).toEqual([1, 3]);
  const [[deadLetterId, letter]] = await rawEntries(env.redis, `${stream}:dlq`);
  const { fields, dlq } = readDeadLetter(letter);
  expect(dlq).toMatchObject({ [f.id]: wideId, [f.reason]: 'decode', [f.errorName]: 'DecodeError' });
  expect(dlq[f.errorMessage]).toBe(
    c.oversized
      ? `entry is ${wideBytes} bytes, larger than maxPayloadBytes (${Math.floor(wideBytes / 2)} bytes)`
      : `entry has ${c.fields} fields, more than maxPayloadFields (1000)`,
  );
  // The first 1,000 fields as they are, the rest in one JSON value: nothing lost, in order.
  expect(letter.slice(0, 2 * COPIED_AS_IS)).toEqual(wide.slice(0, 2 * COPIED_AS_IS));
  expect(dlq[f.restFieldCount]).toBe(String(c.fields - COPIED_AS_IS));
  expect(fields).toEqual(wide);
  return { stream, deadLetterId, source: wide };
}

/**
 * An entry of `fields` fields (within maxPayloadFields, with room for a redrive's two) its handler refuses: the dead-letter move (a script)
 * copies it whole. Returns the dead letter's id; `calls` counts the handler's calls.
 */
export async function refusedWideEntry(env: WideEntryEnv, fields: number): Promise<{ stream: string; deadLetterId: string; source: string[]; calls: () => number }> {
  const stream = wideStream();
  let calls = 0;
  @Controller()
  class Refuses {
    @EventPattern(stream)
    handle() {
      calls++;
      throw new UnrecoverableEventError('refused');
    }
  }
  await env.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  const source = wideEntry(1, fields);
  const id = await addEntry(env.redis, stream, source);
  env.apps.push(await startApp([Refuses], { connection: env.connection, group: 'g', maxPayloadFields: fields + 10 }));
  await waitFor(async () => (await env.redis.xlen(`${stream}:dlq`)) === 1, 'the refused entry dead-lettered', 15_000);
  await waitFor(async () => (await pendingOf(env.redis, stream)) === 0, 'nothing pending', 15_000);
  const [[deadLetterId, letter]] = await rawEntries(env.redis, `${stream}:dlq`);
  const read = readDeadLetter(letter);
  expect(read.dlq).toMatchObject({ [f.id]: id, [f.reason]: 'unrecoverable' });
  expect(read.fields).toEqual(source);
  return { stream, deadLetterId, source, calls: () => calls };
}
