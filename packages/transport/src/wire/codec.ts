import { DecodeError } from '../errors/decode.error.js';

/**
 * Wire format v1: one stream entry per event, flat string fields.
 * Only `data` is required, so `XADD orders.created * data '{"id":1}'` from any tool is a valid event.
 * Writers leave out `v` (absent means 1; a later version will write it) and the emit time, which the
 * entry id already holds: every field costs the producer, Redis and each consumer on every entry.
 */
export const WIRE_VERSION = '1';
export const FIELD_VERSION = 'v';
export const FIELD_DATA = 'data';
export const FIELD_CORRELATION_ID = 'cid';
export const FIELD_HEADERS = 'h';
/** Request-reply only: the stream the reply goes to, and when the caller stops waiting (ms since epoch). */
export const FIELD_REPLY_TO = 'rt';
export const FIELD_DEADLINE = 'dl';

export interface OutgoingMessage {
  data: unknown;
  correlationId: string;
  headers?: Record<string, string>;
  replyTo?: string;
  deadline?: number;
}

export interface DecodedMessage {
  data: unknown;
  correlationId?: string;
  headers: Record<string, string>;
  replyTo?: string;
  deadline?: number;
}

/** Encodes a message as XADD field/value arguments, appended to `args` (the XADD's key and id, say). */
export function encode(message: OutgoingMessage, args: Array<string | number> = []): Array<string | number> {
  const json = JSON.stringify(message.data);
  if (json === undefined) throw new TypeError('Event data must be JSON-serialisable (got undefined or a function)');
  args.push(FIELD_DATA, json, FIELD_CORRELATION_ID, message.correlationId);
  if (message.headers && Object.keys(message.headers).length > 0) args.push(FIELD_HEADERS, JSON.stringify(message.headers));
  if (message.replyTo !== undefined) args.push(FIELD_REPLY_TO, message.replyTo);
  if (message.deadline !== undefined) args.push(FIELD_DEADLINE, String(message.deadline));
  return args;
}

// JSON.parse keeps a "__proto__" key as an own property; a handler that merges it into another object
// would pollute prototypes. Such entries are refused. The cheap substring test keeps the reviver off the hot path.
function parseJson(text: string, what: string): unknown {
  try {
    if (!text.includes('__proto__')) return JSON.parse(text);
    return JSON.parse(text, (key, value) => {
      if (key === '__proto__') throw new DecodeError(`${what} has a "__proto__" key`);
      return value;
    });
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function fieldBytes(fields: string[]): number {
  let n = 0;
  for (const f of fields) n += Buffer.byteLength(f);
  return n;
}

/**
 * Decodes an entry's flat field list. Throws DecodeError for anything a handler must not see:
 * no `data`, bad JSON, an unknown version, bad headers, or more than `maxBytes`.
 */
export function decode(fields: string[] | null | undefined, maxBytes?: number): DecodedMessage {
  if (!Array.isArray(fields) || fields.length === 0) throw new DecodeError('entry has no fields');
  if (maxBytes !== undefined && fieldBytes(fields) > maxBytes) {
    throw new DecodeError(`entry is larger than maxPayloadBytes (${maxBytes})`);
  }
  let data: string | undefined;
  let version: string | undefined;
  let correlationId: string | undefined;
  let headers: string | undefined;
  let replyTo: string | undefined;
  let deadline: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    switch (fields[i]) {
      case FIELD_DATA: data = value; break;
      case FIELD_VERSION: version = value; break;
      case FIELD_CORRELATION_ID: correlationId = value; break;
      case FIELD_HEADERS: headers = value; break;
      case FIELD_REPLY_TO: replyTo = value; break;
      case FIELD_DEADLINE: deadline = value; break;
      default: break; // unknown fields are ignored: newer producers may add some (and older ones wrote `ts`)
    }
  }
  if (version !== undefined && version !== WIRE_VERSION) {
    throw new DecodeError(`unknown wire-format version "${version}" (this consumer reads "${WIRE_VERSION}")`);
  }
  if (data === undefined) throw new DecodeError(`entry has no "${FIELD_DATA}" field`);
  const decoded: DecodedMessage = { data: parseJson(data, `"${FIELD_DATA}"`), headers: {} };
  if (headers !== undefined) {
    const parsed = parseJson(headers, `"${FIELD_HEADERS}"`);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DecodeError(`"${FIELD_HEADERS}" must be a JSON object`);
    }
    decoded.headers = parsed as Record<string, string>;
  }
  if (correlationId !== undefined) decoded.correlationId = correlationId;
  if (replyTo !== undefined) decoded.replyTo = replyTo;
  if (deadline !== undefined) {
    const n = Number(deadline);
    if (!Number.isFinite(n)) throw new DecodeError(`"${FIELD_DEADLINE}" must be a number`);
    decoded.deadline = n;
  }
  return decoded;
}
