import { DEAD_LETTER_FIELDS } from '../consumer/dead-letter.js';
import { DecodeError } from '../errors/decode.error.js';
import { decode, type DecodedMessage } from '../wire/codec.js';

/**
 * Fields a redriven entry carries besides its original ones (set by the redrive script,
 * `src/redis/scripts/dlq-redrive-2.lua`).
 */
export const REDRIVE_FIELDS = {
  /** How many times the entry was redriven (1 the first time). */
  count: 'redrive.count',
  /** The dead-letter entry id it was redriven from (the latest one). */
  from: 'redrive.from',
} as const;

/** A dead-letter entry, read back. */
export interface DeadLetterEntry {
  /** Id in the dead-letter stream; its millisecond part is when the entry was dead-lettered. */
  id: string;
  /** Source stream key (`dlq.stream`). */
  stream: string;
  /** Id of the entry in the source stream (`dlq.id`). */
  sourceId: string;
  group: string;
  consumer: string;
  /** Handler calls made (`dlq.attempts`). */
  attempts: number;
  /** `max-attempts`, `unrecoverable`, `validation`, `decode`, `manual`, ... (`dlq.reason`). */
  reason: string;
  error: { name: string; message: string };
  /** ISO time (`dlq.failedAt`). */
  failedAt: string;
  /** Set when the entry had been redriven before and failed again. */
  redrive: { count: number; from: string } | null;
  /**
   * The original entry's fields (what a redrive puts back), without the `dlq.*` ones; for an entry of more than
   * 1,000 fields, with those its dead letter kept in `dlq.fields.rest`.
   */
  fields: Record<string, string>;
  /** The original entry decoded with the wire codec; null when it does not decode (then `decodeError` says why). */
  message: DecodedMessage | null;
  decodeError: string | null;
}

const f = DEAD_LETTER_FIELDS;

/** Parses an XRANGE row of a dead-letter stream. */
export function parseDeadLetter(id: string, flat: string[]): DeadLetterEntry {
  const meta: Record<string, string> = {};
  const fields: Record<string, string> = {};
  const original: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [name, value] = [flat[i], flat[i + 1]];
    if (name.startsWith('dlq.')) {
      meta[name] = value;
    } else {
      fields[name] = value;
      original.push(name, value);
    }
  }
  // An entry of more than 1,000 fields: the rest of them, in order (see DEAD_LETTER_FIELDS).
  for (const [name, value] of restFields(meta[f.restFields])) {
    fields[name] = value;
    original.push(name, value);
  }
  let message: DecodedMessage | null = null;
  let decodeError: string | null = null;
  try {
    message = decode(original);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    decodeError = err.message;
  }
  const count = fields[REDRIVE_FIELDS.count];
  return {
    id,
    stream: meta[f.stream] ?? '',
    sourceId: meta[f.id] ?? '',
    group: meta[f.group] ?? '',
    consumer: meta[f.consumer] ?? '',
    attempts: Number(meta[f.attempts] ?? 0),
    reason: meta[f.reason] ?? '',
    error: { name: meta[f.errorName] ?? '', message: meta[f.errorMessage] ?? '' },
    failedAt: meta[f.failedAt] ?? new Date(Number(id.split('-')[0])).toISOString(),
    redrive: count !== undefined ? { count: Number(count), from: fields[REDRIVE_FIELDS.from] ?? '' } : null,
    fields,
    message,
    decodeError,
  };
}

/** The name/value pairs of a `dlq.fields.rest` value (a JSON array); none when absent or not such an array. */
function restFields(json: string | undefined): Array<[string, string]> {
  if (json === undefined) return [];
  let flat: unknown;
  try {
    flat = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(flat)) return [];
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), String(flat[i + 1])]);
  return pairs;
}
