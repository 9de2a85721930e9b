/**
 * taking: the lease is ours; the partition's pending entries (whoever holds them) are being taken and queued,
 *   in id order, before anything new is read from it.
 * owned: read, claimed and run here.
 * releasing: over our share: no longer read; given up once what is held of it has settled and is acked.
 */
export type LeaseState = 'taking' | 'owned' | 'releasing';

export interface PartitionLease {
  state: LeaseState;
  /** Until when, by our clock, the lease is surely ours: when the last renewal was sent, + ttl - margin. */
  validUntil: number;
  /** The take-over of its pending entries, while it runs. */
  takingOver?: Promise<void>;
  /** The lease's generation in Redis (the fencing token): grows each time the partition changes hands. */
  generation: number;
}

/** What the dispatcher asks before and after running an entry of an ordered partition. */
export interface PartitionLeaseView {
  /** Whether entries of `stream` may run here now: not a managed partition, or one whose lease is valid. */
  mayRun(stream: string): boolean;
  /** The generation of this consumer's lease on `stream` (its fencing token); undefined when none is held. */
  fencingToken(stream: string): number | undefined;
}

/**
 * The leases this consumer holds on ordered partitions, and the reads in flight on them: state only, no Redis.
 * PartitionOwnership writes it (takes, renews, gives up); the dispatcher, the reader and the late-completion
 * check read it. It sits below all of them, so none of them has to call another to know a lease.
 */
export class PartitionLeaseTable implements PartitionLeaseView {
  /** Every partition of the ordered partitioned patterns: only these need a lease. */
  readonly managed = new Set<string>();
  readonly held = new Map<string, PartitionLease>();
  /** Reads in flight per partition. */
  readonly reads = new Map<string, number>();
  /** Set at shutdown, once the leases are given up. */
  closed = false;

  constructor(partitions: Iterable<string>) {
    for (const stream of partitions) this.managed.add(stream);
  }

  /** Whether this consumer may read new entries of `stream` and claim its stale ones now. */
  owns(stream: string): boolean {
    if (!this.managed.has(stream)) return true;
    const lease = this.held.get(stream);
    return lease?.state === 'owned' && lease.validUntil > Date.now();
  }

  mayRun(stream: string): boolean {
    if (!this.managed.has(stream)) return true;
    const lease = this.held.get(stream);
    return lease !== undefined && lease.validUntil > Date.now();
  }

  fencingToken(stream: string): number | undefined {
    return this.held.get(stream)?.generation;
  }

  /** Whether the lease of generation `token` on `stream` is surely still ours. */
  stillHolds(stream: string, token: number): boolean {
    const lease = this.held.get(stream);
    return lease?.generation === token && lease.validUntil > Date.now();
  }

  /**
   * Of `streams`, those that may be read now (a partition's lease must outlast a read blocking until `until`),
   * each counted as being read until readDone().
   */
  startRead(streams: string[], until: number): string[] {
    const readable: string[] = [];
    for (const stream of streams) {
      if (this.managed.has(stream)) {
        const lease = this.held.get(stream);
        if (lease?.state !== 'owned' || lease.validUntil <= until) continue;
        this.reads.set(stream, (this.reads.get(stream) ?? 0) + 1);
      }
      readable.push(stream);
    }
    return readable.length === streams.length ? streams : readable;
  }

  readDone(streams: string[]): void {
    for (const stream of streams) {
      const n = this.reads.get(stream);
      if (n === undefined) continue;
      if (n <= 1) this.reads.delete(stream);
      else this.reads.set(stream, n - 1);
    }
  }
}
