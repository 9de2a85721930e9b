import { DecodeError } from '../errors/decode.error.js';
import { DEFAULT_DECODE_LIMITS } from './decode-limits.js';
import { parseJson } from './safe-json.js';

/**
 * Reply entries (request-reply): XADD <reply stream> * cid <request correlation id> p <JSON packet>,
 * where the packet is Nest's WritePacket: { response } for each value, { err } for an error,
 * and { isDisposed: true } once the handler's stream completed.
 */
export const FIELD_REPLY_CORRELATION_ID = 'cid';
export const FIELD_REPLY_PACKET = 'p';

export interface ReplyPacket {
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

/** A reply entry as read: its packet, or why it cannot be used (the caller it names gets that error). */
export type DecodedReply =
  | { correlationId: string; packet: ReplyPacket; error?: undefined }
  | { correlationId: string | undefined; packet?: undefined; error: DecodeError };

export function encodeReply(correlationId: string, packet: ReplyPacket): string[] {
  return [FIELD_REPLY_CORRELATION_ID, correlationId, FIELD_REPLY_PACKET, JSON.stringify(packet)];
}

/**
 * Decodes a reply entry. The packet goes through the same checks as event data (no prototype-polluting keys,
 * depth bounded): whoever can write to a reply stream must not be able to hand a caller a polluted object.
 */
export function decodeReply(fields: string[], maxDepth = DEFAULT_DECODE_LIMITS.maxDepth): DecodedReply {
  let cid: string | undefined;
  let p: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === FIELD_REPLY_CORRELATION_ID) cid = fields[i + 1];
    else if (fields[i] === FIELD_REPLY_PACKET) p = fields[i + 1];
  }
  if (cid === undefined || p === undefined) {
    return { correlationId: cid, error: new DecodeError(`reply entry has no "${cid === undefined ? FIELD_REPLY_CORRELATION_ID : FIELD_REPLY_PACKET}" field`) };
  }
  try {
    const packet = parseJson(p, `reply "${FIELD_REPLY_PACKET}"`, maxDepth);
    if (typeof packet !== 'object' || packet === null || Array.isArray(packet)) {
      throw new DecodeError(`reply "${FIELD_REPLY_PACKET}" must be a JSON object`);
    }
    return { correlationId: cid, packet: packet as ReplyPacket };
  } catch (err) {
    return { correlationId: cid, error: err as DecodeError };
  }
}
