import type { DeadLetterEntry } from '@nestream/transport/admin';

/** A dead letter in `--json` outputs (`dlq list`, `dlq show`): schema in docs/reference/cli.md. */
export function deadLetterJson(e: DeadLetterEntry): object {
  return {
    id: e.id,
    stream: e.stream,
    sourceId: e.sourceId,
    group: e.group,
    consumer: e.consumer,
    attempts: e.attempts,
    reason: e.reason,
    error: e.error,
    failedAt: e.failedAt,
    redrive: e.redrive,
    data: e.message ? e.message.data : null,
    correlationId: e.message?.correlationId ?? null,
    headers: e.message?.headers ?? null,
    decodeError: e.decodeError,
    fields: e.fields,
  };
}
