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
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxHeaders: 64,
  maxHeaderBytes: 8 * 1024,
  replyPrefix: 'nestream:replies:',
});
