/** Every Redis key name the transport uses is made here. */
export class StreamKeys {
  constructor(private readonly prefix: string) {}

  /** The stream that carries a pattern's entries. */
  stream(pattern: string): string {
    return this.prefix + pattern;
  }

  /**
   * Partition `index` of a partitioned pattern: `<keyPrefix><pattern>:{<index>}`. The `{index}` is a Redis
   * Cluster hash tag: partitions of one pattern spread over slots (and nodes), while a partition's dead-letter
   * stream and lease key (`<partition>:dlq`, `<partition>:owner`) land in its slot.
   */
  partition(pattern: string, index: number): string {
    return `${this.prefix}${pattern}:{${index}}`;
  }

  /** The `count` partition streams of a pattern, in index order. */
  partitions(pattern: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => this.partition(pattern, i));
  }

  /** Where a partitioned pattern's partition count is recorded (a string), read by producers. */
  partitionCount(pattern: string): string {
    return `${this.prefix}nestream:partitions:${pattern}`;
  }

  /** The lease of an ordered partition (a string holding the owning consumer's name, with a TTL). */
  partitionOwner(partitionStream: string): string {
    return `${partitionStream}:owner`;
  }

  /** The live consumers of a group sharing an ordered partitioned pattern (a sorted set: name -> last heartbeat). */
  partitionMembers(group: string, pattern: string): string {
    return `${this.prefix}nestream:partition-members:${group}:${pattern}`;
  }

  /** A client's reply stream for request-reply. */
  replies(clientId: string): string {
    return this.replyPrefix() + clientId;
  }

  /** The namespace of every client's reply stream: a server writes replies nowhere else. */
  replyPrefix(): string {
    return `${this.prefix}nestream:replies:`;
  }

  /**
   * The handler failures recorded for a stream's pending entries (a hash: `<id>:<group>` -> count), in the
   * stream's slot (the stream key's hash tag, if any, comes first).
   */
  static failures(stream: string): string {
    return `${stream}:failures`;
  }

  /** A field of the failures hash: an entry id holds no `:`, so the group after it is unambiguous. */
  static failuresField(id: string, group: string): string {
    return `${id}:${group}`;
  }
}
