/** True when Redis Cluster hashes `key` by a part in braces: a `{` followed, later, by a `}` with something between. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open < 0) return false;
  const close = key.indexOf('}', open + 1);
  return close > open + 1;
}

/**
 * A key in `stream`'s hash slot: a stream with a hash tag lends it (`{orders}.placed:<suffix>`), any other
 * stream's whole name becomes the tag (`{orders.placed}:<suffix>`), which hashes as the stream's own key does.
 */
function besideStream(stream: string, suffix: string, feature: string): string {
  if (hasHashTag(stream)) return `${stream}:${suffix}`;
  // A `}` in the name would end the braces early: the key would hash elsewhere than the stream.
  if (stream.includes('}')) throw new TypeError(`the stream "${stream}" has a "}" but no hash tag: ${feature} need a name without "}" or with a hash tag ({orders}.placed)`);
  return `{${stream}}:${suffix}`;
}

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

  /**
   * A group's rate limit on a pattern's handler (a string: when its token bucket is full again), shared by the
   * group's consumers and, for a partitioned pattern, by its partitions:
   * `<keyPrefix>nestream:rate-limit:<bytes of group>:<group>:<pattern>` (length-prefixed as partitionMembers).
   */
  rateLimit(group: string, pattern: string): string {
    return `${this.prefix}nestream:rate-limit:${Buffer.byteLength(group)}:${group}:${pattern}`;
  }

  /**
   * The record of an idempotency key written to `stream` (the id of the entry it added), in the stream's hash
   * slot: a stream with a hash tag lends it (`{orders}.placed:idem:<key>`), any other stream's whole name becomes
   * the tag (`{orders.placed}:idem:<key>`), which hashes as the stream's own key does.
   */
  idempotency(stream: string, key: string): string {
    return besideStream(stream, `idem:${key}`, 'idempotency keys');
  }

  /** A stream's schedule of delayed emits (a sorted set: schedule id -> due ms), in the stream's slot. */
  schedule(stream: string): string {
    return besideStream(stream, 'scheduled', 'delayed emits');
  }

  /** The entries of a stream's delayed emits (a hash: schedule id -> fields), in the stream's slot. */
  scheduledEntries(stream: string): string {
    return besideStream(stream, 'scheduled:entries', 'delayed emits');
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
