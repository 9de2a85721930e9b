import type { StreamKeys } from '../keys.js';
import type { RedisClient } from '../redis/redis-client.js';
import type { PartitionLeaseTable } from './partition-lease-table.js';

/** A handler call that ended after the lease it started under was lost: another consumer may have run the partition meanwhile. */
export interface LateCompletion {
  stream: string;
  id: string;
  /** The generation of the lease the call started under (its fencing token). */
  fencingToken: number;
  /** Who holds the partition's lease now, if anyone. */
  owner: string | null;
}

export interface LateCompletionsDeps {
  /** The commands connection (two GETs of one partition's keys: one slot). */
  redis: RedisClient;
  keys: StreamKeys;
  group: string;
  consumer: string;
  table: PartitionLeaseTable;
  /** A handler of a partition finished after this consumer's lease on it (that generation) was lost. */
  onLateCompletion: (event: LateCompletion) => void;
  onError: (err: unknown) => void;
}

/**
 * After each handler call on an ordered partition, started under lease generation `token`: when the lease is
 * not surely still that one (lost, or run out by our clock), asks Redis whether the lease changed hands since,
 * and reports a late completion if another consumer took it. The common case is one map lookup and a clock read.
 */
export class LateCompletions {
  constructor(private readonly deps: LateCompletionsDeps) {}

  check(stream: string, id: string, token: number): void {
    const { table } = this.deps;
    if (table.stillHolds(stream, token)) return;
    // After close() gave the leases up (a handler outliving shutdownTimeoutMs), the connection is closing: not asked.
    if (table.closed) return;
    void this.confirm(stream, id, token).catch(err => this.deps.onError(err));
  }

  private async confirm(stream: string, id: string, token: number): Promise<void> {
    const { redis, keys, group, consumer, table } = this.deps;
    const [owner, generation] = await Promise.all([redis.get(keys.partitionOwner(stream, group)), redis.get(keys.partitionGeneration(stream, group))]);
    const current = Number(generation);
    // Each take of the lease counts a generation. None since the call's, or only our own taking it back (the one
    // we hold now), means no other consumer has run the partition meanwhile: the call was late for nobody.
    const ownRetake = owner === consumer && table.held.get(stream)?.generation === current ? 1 : 0;
    if (!(current - token > ownRetake)) return;
    this.deps.onLateCompletion({ stream, id, fencingToken: token, owner });
  }
}
