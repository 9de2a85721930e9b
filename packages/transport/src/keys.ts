/** Every Redis key name the transport uses is made here. */
export class StreamKeys {
  constructor(private readonly prefix: string) {}

  /** The stream that carries a pattern's entries. */
  stream(pattern: string): string {
    return this.prefix + pattern;
  }

  /** A client's reply stream for request-reply. */
  replies(clientId: string): string {
    return this.replyPrefix() + clientId;
  }

  /** The namespace of every client's reply stream: a server writes replies nowhere else. */
  replyPrefix(): string {
    return `${this.prefix}nestream:replies:`;
  }
}
