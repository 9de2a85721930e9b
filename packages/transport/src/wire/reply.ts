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

export function encodeReply(correlationId: string, packet: ReplyPacket): string[] {
  return [FIELD_REPLY_CORRELATION_ID, correlationId, FIELD_REPLY_PACKET, JSON.stringify(packet)];
}

export function decodeReply(fields: string[]): { correlationId: string; packet: ReplyPacket } | undefined {
  let cid: string | undefined;
  let p: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === FIELD_REPLY_CORRELATION_ID) cid = fields[i + 1];
    else if (fields[i] === FIELD_REPLY_PACKET) p = fields[i + 1];
  }
  if (cid === undefined || p === undefined) return undefined;
  try {
    return { correlationId: cid, packet: JSON.parse(p) as ReplyPacket };
  } catch {
    return undefined;
  }
}
