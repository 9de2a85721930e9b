/**
 * The bounds decode() enforces on every entry, so an entry from any writer of a stream (another service, a
 * compromised one, a tenant) costs a consumer a bounded amount of work and cannot reach beyond its stream.
 * An entry outside them is dead-lettered with reason `decode`.
 */
export interface DecodeLimits {
  /** Size of the whole entry (every field name and value, UTF-8 bytes). Server option `maxPayloadBytes`. */
  maxBytes: number;
  /**
   * Nesting of `data` and `h` (a scalar is depth 0, `{}` and `[]` depth 1). Server option `maxPayloadDepth`.
   * JSON.parse copes with any depth, but recursive code after it (JSON.stringify of a reply, class-transformer,
   * deep merges, loggers) overflows the stack at a few thousand levels.
   */
  maxDepth: number;
  /**
   * Fields (name/value pairs) per entry. Server option `maxPayloadFields`. An entry of this transport has at
   * most 5 (data, cid, h, rt, dl); the count is what a consumer reads, holds and screens per entry, whatever
   * the bytes.
   */
  maxFields: number;
  /** Headers (`h`) per entry. */
  maxHeaders: number;
  /** Size of the `h` field (UTF-8 bytes of its JSON). */
  maxHeaderBytes: number;
  /**
   * Every reply stream (`rt`) must start with this: `<keyPrefix>nestream:replies:`, the namespace of client
   * reply streams (StreamKeys.replyPrefix()). A request cannot make the server write anywhere else.
   */
  replyPrefix: string;
}

/**
 * 1 MiB, the default message size bound of Kafka (`message.max.bytes`) and NATS (`max_payload`): larger
 * payloads belong in object storage with a reference on the stream. 64 levels, .NET System.Text.Json's default
 * MaxDepth: deep enough for any document shape seen in events, far below where recursion overflows.
 * 1,000 fields: 200 times what the wire format writes, room for other writers' extra fields, and what a
 * dead-letter copy keeps as they are (dead-letter-copy.lua: one XADD from a Lua script takes at most about
 * 8,000 values; the fields past 1,000 are kept in one value).
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxFields: 1000,
  maxHeaders: 64,
  maxHeaderBytes: 8 * 1024,
  replyPrefix: 'nestream:replies:',
});
