/** Every Redis key name the transport uses is made here. */
export class StreamKeys {
  constructor(private readonly prefix: string) {}

  /** The stream that carries a pattern's entries. */
  stream(pattern: string): string {
    return this.prefix + pattern;
  }

  /** The pattern a stream key belongs to (inverse of stream()). */
  pattern(stream: string): string {
    return stream.slice(this.prefix.length);
  }

  /** A client's reply stream for request-reply. */
  replies(clientId: string): string {
    return `${this.prefix}nestream:replies:${clientId}`;
  }
}
