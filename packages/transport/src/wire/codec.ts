import { DecodeError } from '../errors/decode.error.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './decode-limits.js';
import { correlationIdLengthProblem, correlationIdProblem, parseDeadline, replyToProblem, show } from './request-fields.js';
import { parseJson } from './safe-json.js';
import type { RedisStreamsDeserializer, RedisStreamsSerializer } from './serializer.js';

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
/**
 * Nest 12's packet metadata (`packet.metadata`, set by a client's dispatch hook, read with `ctx.getMetadata()`):
 * a JSON object of strings, bounded like `h`. Absent when the packet has none.
 */
export const FIELD_METADATA = 'm';
/** Request-reply only: the stream the reply goes to, and when the caller stops waiting (ms since epoch). */
export const FIELD_REPLY_TO = 'rt';
export const FIELD_DEADLINE = 'dl';

export interface OutgoingMessage {
  data: unknown;
  correlationId: string;
  headers?: Record<string, string>;
  /** Nest 12's packet metadata; strings only. */
  metadata?: Record<string, string>;
  replyTo?: string;
  deadline?: number;
}

export interface DecodedMessage {
  data: unknown;
  correlationId?: string;
  headers: Record<string, string>;
  /** Undefined when the entry carries none (as Nest's contexts return for a packet without metadata). */
  metadata?: Record<string, string>;
  replyTo?: string;
  deadline?: number;
}

/** Encodes a message as XADD field/value arguments, appended to `args` (the XADD's key and id, say). */
export function encode(
  message: OutgoingMessage,
  args: Array<string | number> = [],
  serializer?: RedisStreamsSerializer,
): Array<string | number> {
  const text = serializer ? serializer.serialize(message.data) : JSON.stringify(message.data);
  if (typeof text !== 'string') {
    throw new TypeError(serializer ? 'serializer.serialize() must return a string' : 'Event data must be JSON-serialisable (got undefined or a function)');
  }
  args.push(FIELD_DATA, text, FIELD_CORRELATION_ID, message.correlationId);
  if (message.headers !== undefined) {
    const headers = encodeStrings(message.headers, 'Header');
    if (headers !== undefined) args.push(FIELD_HEADERS, headers);
  }
  if (message.metadata !== undefined && message.metadata !== null) {
    const metadata = encodeStrings(message.metadata, 'Packet metadata');
    if (metadata !== undefined) args.push(FIELD_METADATA, metadata);
  }
  if (message.replyTo !== undefined) args.push(FIELD_REPLY_TO, message.replyTo);
  if (message.deadline !== undefined) args.push(FIELD_DEADLINE, String(message.deadline));
  return args;
}

/** Headers and metadata are strings only (a consumer dead-letters anything else): fail at the producer, not later. */
function encodeStrings(values: Record<string, string>, what: string): string | undefined {
  if (typeof values !== 'object' || Array.isArray(values)) throw new TypeError(`${what} must be an object of strings, got ${Array.isArray(values) ? 'an array' : typeof values}`);
  let count = 0;
  for (const key in values) {
    if (typeof values[key] !== 'string') throw new TypeError(`${what} ${show(key)} must be a string, got ${typeof values[key]}`);
    count++;
  }
  return count === 0 ? undefined : JSON.stringify(values);
}

/**
 * Whether the entry is larger than maxBytes (UTF-8). A UTF-16 code unit takes 1 to 3 UTF-8 bytes, so the
 * string lengths settle it without encoding anything unless the entry is near the bound.
 */
function tooLarge(fields: string[], maxBytes: number): boolean {
  let units = 0;
  for (let i = 0; i < fields.length; i++) units += fields[i].length;
  if (units * 3 <= maxBytes) return false;
  if (units > maxBytes) return true;
  let bytes = 0;
  for (let i = 0; i < fields.length; i++) bytes += Buffer.byteLength(fields[i]);
  return bytes > maxBytes;
}

/**
 * Decodes an entry's flat field list. Throws DecodeError for anything a handler must not see or the server
 * must not act on: no `data`, bad JSON, an unknown version, anything outside `limits` (size, fields, depth,
 * prototype-polluting keys, headers or packet metadata that are not a small object of strings), and fields that are not well
 * formed (`rt` outside the reply namespace, `rt` without `cid`, a request's `cid` that is not a short id, an
 * event's `cid` over 128 characters, a `dl` that is not a positive integer).
 */
export function decode(
  fields: string[] | null | undefined,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  deserializer?: RedisStreamsDeserializer,
): DecodedMessage {
  if (!Array.isArray(fields) || fields.length === 0) throw new DecodeError('entry has no fields');
  if (fields.length > 2 * limits.maxFields) {
    throw new DecodeError(`entry has ${Math.ceil(fields.length / 2)} fields, more than maxPayloadFields (${limits.maxFields})`);
  }
  if (tooLarge(fields, limits.maxBytes)) {
    throw new DecodeError(`entry is larger than maxPayloadBytes (${limits.maxBytes} bytes)`);
  }
  let data: string | undefined;
  let version: string | undefined;
  let correlationId: string | undefined;
  let headers: string | undefined;
  let metadata: string | undefined;
  let replyTo: string | undefined;
  let deadline: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    switch (fields[i]) {
      case FIELD_DATA: data = value; break;
      case FIELD_VERSION: version = value; break;
      case FIELD_CORRELATION_ID: correlationId = value; break;
      case FIELD_HEADERS: headers = value; break;
      case FIELD_METADATA: metadata = value; break;
      case FIELD_REPLY_TO: replyTo = value; break;
      case FIELD_DEADLINE: deadline = value; break;
      default: break; // unknown fields are ignored: newer producers may add some (and older ones wrote `ts`)
    }
  }
  if (version !== undefined && version !== WIRE_VERSION) {
    throw new DecodeError(`unknown wire-format version ${show(version)} (this consumer reads "${WIRE_VERSION}")`);
  }
  if (data === undefined) throw new DecodeError(`entry has no "${FIELD_DATA}" field`);
  // Request fields first: nothing is parsed for an entry the server could not answer safely.
  const decoded: DecodedMessage = { data: undefined, headers: {} };
  if (correlationId !== undefined) {
    const problem = replyTo === undefined ? correlationIdLengthProblem(correlationId) : correlationIdProblem(correlationId);
    if (problem) throw new DecodeError(`"${FIELD_CORRELATION_ID}" ${problem}`);
    decoded.correlationId = correlationId;
  }
  if (replyTo !== undefined) {
    const problem = replyToProblem(replyTo, limits.replyPrefix);
    if (problem) throw new DecodeError(`"${FIELD_REPLY_TO}" ${problem}`);
    if (correlationId === undefined) throw new DecodeError(`"${FIELD_REPLY_TO}" without "${FIELD_CORRELATION_ID}": a reply could not be matched`);
    decoded.replyTo = replyTo;
  }
  if (deadline !== undefined) {
    const n = parseDeadline(deadline);
    if (n === undefined) throw new DecodeError(`"${FIELD_DEADLINE}" must be a positive integer (ms since the epoch), got ${show(deadline)}`);
    decoded.deadline = n;
  }
  if (headers !== undefined) decoded.headers = decodeStrings(headers, FIELD_HEADERS, 'headers', limits);
  if (metadata !== undefined) decoded.metadata = decodeStrings(metadata, FIELD_METADATA, 'keys', limits);
  decoded.data = deserializer ? deserializeWith(deserializer, data) : parseJson(data, `"${FIELD_DATA}"`, limits.maxDepth);
  return decoded;
}

/**
 * `h` and `m`: a JSON object of at most maxHeaders string values, at most maxHeaderBytes in all (each field
 * on its own). `unit` names what is counted in the error.
 */
function decodeStrings(text: string, field: string, unit: string, limits: DecodeLimits): Record<string, string> {
  if (text.length > limits.maxHeaderBytes || (text.length * 3 > limits.maxHeaderBytes && Buffer.byteLength(text) > limits.maxHeaderBytes)) {
    throw new DecodeError(`"${field}" is larger than ${limits.maxHeaderBytes} bytes`);
  }
  const parsed = parseJson(text, `"${field}"`, limits.maxDepth);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DecodeError(`"${field}" must be a JSON object`);
  }
  let count = 0;
  for (const key in parsed) {
    if (++count > limits.maxHeaders) throw new DecodeError(`"${field}" has more than ${limits.maxHeaders} ${unit}`);
    if (typeof (parsed as Record<string, unknown>)[key] !== 'string') {
      throw new DecodeError(`"${field}" value of ${show(key)} must be a string`);
    }
  }
  return parsed as Record<string, string>;
}

/** A user's deserializer: whatever it throws refuses the entry (reason `decode`). */
function deserializeWith(deserializer: RedisStreamsDeserializer, text: string): unknown {
  try {
    return deserializer.deserialize(text);
  } catch (err) {
    throw new DecodeError(`deserializer refused "${FIELD_DATA}": ${(err as Error)?.message ?? String(err)}`);
  }
}
