import { PartitionError } from '../errors/partition.error.js';
import type { StreamKeys } from '../keys.js';
import { MAX_PARTITIONS, parsePartitionCount } from '../partition-routing.js';

/**
 * A pattern found without partitions is looked up again at most this often (in the background, on an emit),
 * so a producer started before its consumers picks the partitions up once they record them.
 */
export const PARTITION_RECHECK_MS = 5000;
/** An emit with a partition key to a pattern found without partitions looks it up again first if the last look is this old. */
const KEYED_RECHECK_MS = 1000;

/** What the client knows of a pattern's partitions. */
export interface KnownPartitions {
  /** Partitions; 0 for a pattern without. */
  count: number;
  /** Redis holds this count: it is never looked up again (a live pattern's count cannot change). */
  confirmed: boolean;
  /** When Redis was last asked. */
  checkedAt: number;
  /** The client's `partitions` option and Redis disagree, or Redis holds no count there: every emit fails with it. */
  error?: PartitionError;
  /** The partition of the next entry without a partition key (round-robin). */
  next: number;
}

/**
 * The partition counts of the patterns a client emits to, read from `<keyPrefix>nestream:partitions:<pattern>`
 * (recorded by the consumers at listen()) on the first emit of each pattern: one GET, shared by the emits
 * waiting for it, which then go out in the order they were made.
 */
export class PartitionCounts {
  private readonly known = new Map<string, KnownPartitions>();
  private readonly lookups = new Map<string, Promise<void>>();

  constructor(
    private readonly keys: StreamKeys,
    /** The client's `partitions` option. */
    private readonly configured: Record<string, number>,
    /** GET of a count key on the producer connection. */
    private readonly get: (pattern: string, key: string) => Promise<string | null>,
    /** Whether the connection is up: a look-up in the background never waits for one. */
    private readonly connected: () => boolean,
  ) {}

  /**
   * What is known of the pattern, or undefined: lookup() first. A pattern not confirmed is looked up again
   * in the background once PARTITION_RECHECK_MS have passed (the emit at hand goes on with what is known).
   */
  peek(pattern: string): KnownPartitions | undefined {
    const known = this.known.get(pattern);
    if (known && !known.confirmed && Date.now() - known.checkedAt >= PARTITION_RECHECK_MS && this.connected()) {
      this.lookup(pattern).catch(() => undefined); // an emit that needs the count looks it up again itself
    }
    return known;
  }

  /** Whether an emit with a partition key to a pattern found without partitions should look it up again before failing. */
  worthRecheck(known: KnownPartitions): boolean {
    return !known.confirmed && Date.now() - known.checkedAt >= KEYED_RECHECK_MS;
  }

  /** Reads the pattern's count from Redis (one GET, shared by concurrent callers). */
  lookup(pattern: string): Promise<void> {
    let lookup = this.lookups.get(pattern);
    if (!lookup) {
      lookup = this.read(pattern).finally(() => this.lookups.delete(pattern));
      this.lookups.set(pattern, lookup);
    }
    return lookup;
  }

  /** The partition of an entry without a partition key: the next one, round-robin. */
  nextPartition(known: KnownPartitions): number {
    const partition = known.next;
    known.next = (partition + 1) % known.count;
    return partition;
  }

  private async read(pattern: string): Promise<void> {
    const key = this.keys.partitionCount(pattern);
    const value = await this.get(pattern, key);
    const stored = parsePartitionCount(value);
    const configured = this.configured[pattern];
    const known = this.known.get(pattern) ?? { count: 0, confirmed: false, checkedAt: 0, next: 0 };
    known.checkedAt = Date.now();
    known.error = undefined;
    if (value !== null && stored === undefined) {
      known.error = new PartitionError(
        `Redis holds ${JSON.stringify(value.slice(0, 40))} at ${key}, which is not a partition count (an integer from 1 to ${MAX_PARTITIONS}); emits to "${pattern}" fail until it is fixed`,
      );
    } else if (configured !== undefined && stored !== undefined && stored !== configured) {
      known.error = new PartitionError(
        `The client's partitions option gives "${pattern}" ${configured} partitions, but its consumers recorded ${stored} in Redis (${key}); emits to it fail until the two agree: ` +
          `set partitions: { '${pattern}': ${stored} } (or leave the pattern out of the option: the client reads the count from Redis)`,
      );
    } else {
      known.count = stored ?? configured ?? 0;
      known.confirmed = stored !== undefined;
      if (known.count > 0) known.next %= known.count;
    }
    this.known.set(pattern, known);
  }
}
