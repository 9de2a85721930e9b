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
   * stream and lease keys (`<partition>:dlq`, `<partition>:owner:<group>`) land in its slot.
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

  /**
   * A group's lease on an ordered partition (a string holding the owning consumer's name, with a TTL):
   * `<partition>:owner:<group>`. Each group leases the partitions apart (several groups may read one pattern).
   * It starts with the partition's name, so it has the partition's hash tag: same slot on a Redis Cluster.
   * Unambiguous as long as no ordered partitioned pattern contains `}:owner` (refused at listen()).
   */
  partitionOwner(partitionStream: string, group: string): string {
    return `${partitionStream}:owner:${group}`;
  }

  /**
   * The generation of a group's lease on an ordered partition (a counter, no TTL): incremented, in the same
   * script, each time the lease is taken, so it only grows as the partition changes hands. It is the fencing
   * token handlers see (`ctx.getFencingToken()`). Next to the lease, in its slot.
   */
  partitionGeneration(partitionStream: string, group: string): string {
    return `${partitionStream}:owner-generation:${group}`;
  }

  /**
   * The live consumers of a group sharing an ordered partitioned pattern (a sorted set: name -> last heartbeat):
   * `<keyPrefix>nestream:partition-consumers:<bytes of group>:<group>:<pattern>`. The group's length comes first,
   * so no group and pattern share a set whatever `:` they contain (`a:b` + `c` is not `a` + `b:c`).
   */
  partitionMembers(group: string, pattern: string): string {
    return `${this.prefix}nestream:partition-consumers:${Buffer.byteLength(group)}:${group}:${pattern}`;
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
