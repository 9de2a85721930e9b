import type { Redis } from 'ioredis';

/** Fields a dead-letter entry adds to the original entry's fields (which it keeps unchanged). */
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
} as const;

/** Why an entry was dead-lettered (`deadline`: a request's retry would come after its caller stopped waiting). */
export type DeadLetterReason = 'decode' | 'max-attempts' | 'unrecoverable' | 'manual' | 'validation' | 'deadline';

export interface DeadLetterRecord {
  stream: string;
  id: string;
  fields: string[];
  group: string;
  consumer: string;
  attempts: number;
  reason: DeadLetterReason | string;
  error: { name: string; message: string };
}

/**
 * Copies the entry to the dead-letter stream and acks it in the source stream in one MULTI/EXEC,
 * so a crash between the two can neither lose the entry nor leave it in both places.
 * With `deadLetterKey` false the entry is only acked (the caller logs it).
 * On a Redis Cluster both keys must share a slot: use a hash tag (`{orders}.created` -> `{orders}.created:dlq`).
 */
export async function moveToDeadLetter(
  redis: Redis,
  record: DeadLetterRecord,
  deadLetterKey: string | false,
  maxLen?: number,
): Promise<void> {
  const multi = redis.multi();
  if (deadLetterKey !== false) {
    const f = DEAD_LETTER_FIELDS;
    const trim: (string | number)[] = maxLen ? ['MAXLEN', '~', maxLen] : [];
    multi.xadd(
      deadLetterKey,
      ...trim,
      '*',
      ...record.fields,
      f.stream, record.stream,
      f.id, record.id,
      f.group, record.group,
      f.consumer, record.consumer,
      f.attempts, String(record.attempts),
      f.reason, record.reason,
      f.errorName, record.error.name,
      f.errorMessage, record.error.message,
      f.failedAt, new Date().toISOString(),
    );
  }
  multi.xack(record.stream, record.group, record.id);
  const results = await multi.exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw failed?.[0] ?? new Error('MULTI for the dead-letter move was discarded');
}
