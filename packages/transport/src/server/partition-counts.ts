import type { RedisClient } from '../redis/redis-client.js';
import { PartitionError } from '../errors/partition.error.js';
import type { StreamKeys } from '../keys.js';
import { parsePartitionCount } from '../partition-routing.js';
import { isPermissionDenied } from '../redis/command-errors.js';

/** An @EventPattern of the server: with its partition count, or without partitions. */
export interface EventPatternPartitions {
  pattern: string;
  partitions?: number;
}

/** A partitioned pattern whose own stream holds entries: nobody reads them (see recordPartitionCounts). */
export interface UnreadEntries {
  pattern: string;
  stream: string;
  length: number;
}

/**
 * Records the partition count of each partitioned pattern in Redis (`SET <keyPrefix>nestream:partitions:<pattern> n
 * NX`), where producers read it on their first emit. Fails with a PartitionError when Redis records another
 * count for the pattern (a live pattern's count cannot change: per-key order would break, and producers route by
 * the count they read), or records one for a pattern this server reads without partitions (producers write to its
 * partitions, which that handler would never read). Returns the partitioned patterns whose own stream holds
 * entries (written before the pattern had partitions, or by a producer that emitted before any consumer recorded
 * the count): their consumers do not read that stream.
 */
export async function recordPartitionCounts(redis: RedisClient, keys: StreamKeys, patterns: EventPatternPartitions[]): Promise<UnreadEntries[]> {
  const unread: UnreadEntries[] = [];
  for (const { pattern, partitions } of patterns) {
    const key = keys.partitionCount(pattern);
    if (partitions === undefined) {
      // A check only: a user not allowed to read the key (the ACL rules of a consumer without partitioned
      // patterns do not grant it) cannot have recorded partitions with this server either.
      const recorded = await redis.get(key).catch((err: unknown) => {
        if (isPermissionDenied(err)) return null;
        throw err;
      });
      if (recorded !== null) {
        throw new PartitionError(
          `@EventPattern('${pattern}') has no partitions, but Redis records ${recorded} for the pattern (${key}): producers write its events to ` +
            `${keys.partition(pattern, 0)} and the other partitions, which this handler does not read. Declare @EventPattern('${pattern}', { partitions: ${recorded} }), ` +
            `or, if the pattern is to have no partitions any more, stop its producers and consumers, drain its partitions and delete ${key}`,
        );
      }
      continue;
    }
    if ((await redis.set(key, String(partitions), 'NX')) !== 'OK') {
      const recorded = await redis.get(key);
      if (recorded === null) {
        // Deleted between the two commands: record it again.
        if ((await redis.set(key, String(partitions), 'NX')) !== 'OK') throw new PartitionError(`${key} changed while listen() recorded the partition count of '${pattern}'; start again`);
      } else if (parsePartitionCount(recorded) !== partitions) {
        throw new PartitionError(
          `@EventPattern('${pattern}', { partitions: ${partitions} }): Redis records ${JSON.stringify(recorded.slice(0, 40))} partitions for the pattern (${key}). ` +
            `Changing the partition count of a live pattern is not supported: producers route by the recorded count, and the order per key would break ` +
            `where entries of one key sit in two partitions. Keep { partitions: ${recorded} }, or move to a new pattern name; or stop every producer ` +
            `and consumer of the pattern, let its partitions drain, delete them and ${key}, then start with the new count`,
        );
      }
    }
    const stream = keys.stream(pattern);
    const length = await redis.xlen(stream);
    if (length > 0) unread.push({ pattern, stream, length });
  }
  return unread;
}
