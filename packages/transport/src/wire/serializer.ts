/**
 * The encoding of an event's or request's payload (the entry's `data` field), as Nest's built-in transports
 * let users plug in theirs (`serializer` / `deserializer` options). Both sides must agree. Replies, headers
 * and the other fields keep the transport's own format.
 */
export interface RedisStreamsSerializer {
  /** The payload as the text stored in `data` (binary encodings: base64 it). Throw to refuse it: emit()/send() reject. */
  serialize(data: unknown): string;
}

export interface RedisStreamsDeserializer {
  /**
   * The handler's payload from the text of `data`. Throw to refuse the entry (a schema check, say): it is
   * dead-lettered with reason `decode` and the error's message, and the handler never sees it.
   */
  deserialize(text: string): unknown;
}
