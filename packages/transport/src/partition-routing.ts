import calculateSlot from 'cluster-key-slot';

/** Partitions of one pattern, at most: each is a stream (and, ordered, a lease) every consumer deals with. */
export const MAX_PARTITIONS = 1024;

/**
 * The partition a partition key routes to: the key's Redis Cluster hash slot (CRC16-XMODEM of its UTF-8 bytes,
 * or of the part inside its first non-empty `{...}`, modulo 16384: what `CLUSTER KEYSLOT` answers and every
 * Redis client library computes) modulo the partition count. A producer in any language can route the same way.
 */
export function partitionOf(key: string, count: number): number {
  return calculateSlot(key) % count;
}

/** A partition count as stored in Redis (`<keyPrefix>nestream:partitions:<pattern>`), or undefined if it is not one. */
export function parsePartitionCount(value: string | null): number | undefined {
  if (value === null || !/^[1-9]\d{0,3}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= MAX_PARTITIONS ? n : undefined;
}
