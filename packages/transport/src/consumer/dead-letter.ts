import type { RedisClient } from '../redis/redis-client.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { runScript, scriptPermissionError } from '../redis/lua.js';

/**
 * Fields a dead-letter entry adds to the original entry's fields (which it keeps byte for byte). An entry
 * larger than maxPayloadBytes keeps only a prefix of each long value: then `dlq.<field>.bytes` (the value's
 * full size) and `dlq.<field>.truncated` ('true') are added for each value cut, `data`'s named here.
 * An entry of more than 1,000 fields keeps its first 1,000 as they are and the rest in `dlq.fields.rest`, a
 * JSON array `[name, value, ...]` in order (`dlq.fields.rest.count` fields; `dlq.fields.rest.truncated`
 * when some of those values were cut): one XADD from a Lua script cannot take more (dead-letter-copy.lua).
 */
export const DEAD_LETTER_FIELDS = {
  stream: 'dlq.stream',
  id: 'dlq.id',
  group: 'dlq.group',
  consumer: 'dlq.consumer',
  attempts: 'dlq.attempts',
  reason: 'dlq.reason',
  errorName: 'dlq.error.name',
  errorMessage: 'dlq.error.message',
  failedAt: 'dlq.failedAt',
  dataBytes: 'dlq.data.bytes',
  dataTruncated: 'dlq.data.truncated',
  restFields: 'dlq.fields.rest',
  restFieldCount: 'dlq.fields.rest.count',
} as const;

/**
 * Why an entry was dead-lettered (`deadline`: a request's retry would come after its caller stopped waiting;
 * `interrupted`: more than retry.maxInterruptions deliveries ended without an outcome, its consumers crashing).
 */
export type DeadLetterReason = 'decode' | 'max-attempts' | 'unrecoverable' | 'manual' | 'validation' | 'deadline' | 'interrupted';

export interface DeadLetterRecord {
  stream: string;
  id: string;
  group: string;
  consumer: string;
  attempts: number;
  reason: DeadLetterReason | string;
  error: { name: string; message: string };
}

/** The `dlq.*` fields a dead letter carries besides the entry's own, as field/value pairs (DEAD_LETTER_FIELDS). */
export function deadLetterFields(record: DeadLetterRecord, failedAt: Date): string[] {
  const f = DEAD_LETTER_FIELDS;
  return [
    f.stream, record.stream,
    f.id, record.id,
    f.group, record.group,
    f.consumer, record.consumer,
    f.attempts, String(record.attempts),
    f.reason, record.reason,
    f.errorName, record.error.name,
    f.errorMessage, record.error.message,
    f.failedAt, failedAt.toISOString(),
  ];
}

/** How dead letters are written, from the server options (see deadLetterLimits). */
export interface DeadLetterLimits {
  /** XADD MAXLEN ~ of the dead-letter stream. */
  maxLen?: number;
  /** An entry larger than this is copied as a prefix of each long value, not whole. */
  maxPayloadBytes?: number;
  /** Bytes of each long value such a copy keeps. */
  oversizedPrefixBytes?: number;
}

/**
 * `moved`: copied to the dead-letter stream and acked. `gone`: the entry was trimmed or deleted meanwhile,
 * so there was nothing to copy; its pending reference was acked. `acked`: deadLetter is false, only acked.
 * `notPending`: the entry was not pending in the group any more (an earlier try of this move went through
 * and its reply was lost, or something else acked it): nothing was copied, so no second dead letter.
 */
export type DeadLetterResult = 'moved' | 'gone' | 'acked' | 'notPending';

// What dead-letter-2.lua returns.
const MOVE_RESULTS: Record<number, DeadLetterResult> = { 0: 'gone', 1: 'moved', 2: 'notPending' };

export function deadLetterLimits(options: Pick<ResolvedServerOptions, 'deadLetter' | 'maxPayloadBytes'>): DeadLetterLimits {
  if (options.deadLetter === false) return {};
  return {
    maxLen: options.deadLetter.maxLen,
    maxPayloadBytes: options.maxPayloadBytes,
    oversizedPrefixBytes: options.deadLetter.oversizedPrefixBytes,
  };
}

/**
 * Copies the entry to the dead-letter stream and acks it in the source stream in one Lua script
 * (dead-letter-2.lua), so a crash between the two can neither lose the entry nor leave it in both places.
 * Safe to retry: the script checks every write before the first one and copies only an entry still pending,
 * so a move retried after a refusal or a lost reply adds no second dead letter.
 * The copy is made inside Redis from the stored entry, byte for byte: the fields this process read as
 * UTF-8 text are not used. With `deadLetterKey` false the entry is only acked (the caller logs it).
 * On a Redis Cluster both keys must share a slot: use a hash tag (`{orders}.created` -> `{orders}.created:dlq`).
 */
export async function moveToDeadLetter(
  redis: RedisClient,
  record: DeadLetterRecord,
  deadLetterKey: string | false,
  limits: DeadLetterLimits = {},
): Promise<DeadLetterResult> {
  if (deadLetterKey === false) {
    await redis.xack(record.stream, record.group, record.id);
    return 'acked';
  }
  const copied = await runScript<number>(redis, 'deadLetter', [record.stream, deadLetterKey], [
    record.group,
    record.id,
    limits.maxLen ?? '',
    limits.maxPayloadBytes ?? '',
    limits.oversizedPrefixBytes ?? 0,
    ...deadLetterFields(record, new Date()),
  ]).catch(err => Promise.reject(scriptPermissionError(err)));
  return MOVE_RESULTS[copied] ?? 'moved';
}
