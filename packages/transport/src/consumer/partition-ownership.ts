import type { LoggerService } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import type { StreamKeys } from '../keys.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { partitionOf } from '../partition-routing.js';
import { runScript } from '../redis/lua.js';
import { CLOCK_MARGIN_MS, type Leases } from './leases.js';
import type { PartitionLease, PartitionLeaseTable } from './partition-lease-table.js';
import type { PendingIntake } from './pending-intake.js';

/**
 * What the reader and the claim loop ask before they touch a stream. Every stream is owned, except the
 * partitions of an ordered partitioned pattern, which only their lease holder reads, claims and runs.
 */
export interface StreamOwnership {
  /** Whether this consumer may read new entries of `stream` and claim its stale ones now. */
  owns(stream: string): boolean;
  /**
   * Of `streams`, those this consumer may read now (a partition's lease must outlast the blocking read), each
   * counted as being read until readDone(): a partition is never given up while a read of it is in flight.
   */
  startRead(streams: string[]): string[];
  readDone(streams: string[]): void;
  /** Resolves at the next change of what is owned, or the end of the next ownership round. */
  whenChanged(): Promise<void>;
  /** One ownership round (the claim loop's tick): heartbeat, renew, share out, take over, give up. */
  tick(): Promise<void>;
}

/** An ordered partitioned pattern of this server, and the group's membership set for it. */
export interface OwnedPattern {
  pattern: string;
  /** Its partition streams, in index order. */
  streams: string[];
}

export interface PartitionOwnershipDeps {
  /** The commands connection. Every command names one key (a partition's lease, or the membership set): fits Redis Cluster. */
  redis: RedisClient;
  options: ResolvedServerOptions;
  keys: StreamKeys;
  patterns: OwnedPattern[];
  intake: PendingIntake;
  leases: Leases;
  /** Where the leases held here are kept (written here; read by the dispatcher and the late-completion check). */
  table: PartitionLeaseTable;
  /** The lease of a partition was lost: its entries waiting here (not running) are let go, unacked, for the new owner. */
  letGo: (stream: string) => void;
  /** Sends the acks queued so far: a partition is given up, or its pending entries taken over, only once what was run here is acked. */
  flushAcks: () => Promise<void>;
  logger: LoggerService;
  onError: (err: unknown) => void;
}

/**
 * Assignment of ordered partitions (`@EventPattern(p, { partitions: n, ordered: true })`): each partition is run
 * by one consumer of the group at a time, so the order per partition key holds across the group.
 *
 * - A group's lease on a partition is a key, `<partition>:owner:<group>`, holding the owner's name with a TTL of
 *   claim.minIdleMs: taken by a script (SET NX PX, and the lease's generation INCR'd beside it: the fencing
 *   token), renewed every claim loop tick by a compare-and-PEXPIRE script, given up by a compare-and-delete
 *   script.
 * - Each consumer's heartbeat goes into the group's membership set for the pattern, scored with Redis's clock;
 *   a consumer owns at most ceil(partitions / live consumers): one over it gives the extra partitions up once
 *   their entries settled; one under it takes free ones.
 * - The owner checks, by its own clock, that its lease is still valid before it reads (for a whole blocking
 *   read) and before it runs each entry; the lease is counted from when the renewal was sent, so it ends here
 *   before Redis lets it expire. A crashed or stalled owner's partitions are taken after the lease time.
 * - A consumer that takes a partition first takes every pending entry of it (PendingIntake.takeOver) and
 *   queues them in id order before it reads new ones.
 */
export class PartitionOwnership implements StreamOwnership {
  /** The lease table's own maps (not copies): what this class writes, the dispatcher and the reader read. */
  private readonly held: Map<string, PartitionLease>;
  private readonly reads: Map<string, number>;
  /** The lease time: claim.minIdleMs, as long as an entry may go without renewal before others claim it. */
  private readonly ttl: number;
  /** Our lease ends this much before Redis's (command travel time, clock rates). */
  private readonly margin: number;
  private changed?: { promise: Promise<void>; resolve: () => void };
  private round?: Promise<void>;
  private stopped = false;
  /** Patterns whose leases held under our name (by a previous run) were looked for. */
  private readonly adopted = new Set<string>();

  constructor(private readonly deps: PartitionOwnershipDeps) {
    this.held = deps.table.held;
    this.reads = deps.table.reads;
    this.ttl = deps.options.claim.minIdleMs;
    this.margin = Math.max(CLOCK_MARGIN_MS, Math.floor(this.ttl / 10));
  }

  owns(stream: string): boolean {
    return this.deps.table.owns(stream);
  }

  startRead(streams: string[]): string[] {
    // A read blocks up to blockMs in Redis, delivering entries all that time: the lease must outlast it.
    return this.deps.table.startRead(streams, Date.now() + this.deps.options.blockMs);
  }

  readDone(streams: string[]): void {
    this.deps.table.readDone(streams);
  }

  whenChanged(): Promise<void> {
    if (!this.changed) {
      let resolve!: () => void;
      const promise = new Promise<void>(r => (resolve = r));
      this.changed = { promise, resolve };
    }
    return this.changed.promise;
  }

  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.round ??= this.runRound().finally(() => (this.round = undefined));
    return this.round;
  }

  /** The partitions this consumer holds a lease on now, by pattern (for logs and tests). */
  get owned(): Map<string, number[]> {
    const owned = new Map<string, number[]>();
    for (const p of this.deps.patterns) {
      owned.set(p.pattern, p.streams.flatMap((s, i) => (this.held.get(s)?.state === 'owned' ? [i] : [])));
    }
    return owned;
  }

  /**
   * Shutdown, after the handlers drained and the acks were flushed: gives up every partition nothing is held
   * of (the others' leases run out: a handler still running must not overlap with a new owner), and leaves
   * the membership sets, so the others share the partitions out at once instead of after the lease time.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.table.closed = true;
    await this.round;
    const { redis, options, keys } = this.deps;
    const releases = [...this.held.keys()]
      .filter(stream => this.heldEntries(stream) === 0)
      .map(stream => runScript(redis, 'partitionLeaseRelease', [keys.partitionOwner(stream, options.group)], [options.consumer]));
    const leaves = this.deps.patterns.map(p => redis.zrem(keys.partitionMembers(options.group, p.pattern), options.consumer));
    this.held.clear();
    this.notify();
    await Promise.allSettled([...releases, ...leaves]);
  }

  private async runRound(): Promise<void> {
    for (const p of this.deps.patterns) {
      if (this.stopped) break;
      try {
        await this.rebalance(p);
      } catch (err) {
        this.deps.onError(err);
      }
    }
    this.notify();
  }

  private async rebalance(p: OwnedPattern): Promise<void> {
    const { redis, options, keys } = this.deps;
    const live = await runScript<number>(redis, 'partitionMembers', [keys.partitionMembers(options.group, p.pattern)], [options.consumer, this.ttl]);
    if (!this.adopted.has(p.pattern)) await this.adopt(p);
    await Promise.all(p.streams.filter(s => this.held.has(s)).map(s => this.renew(s)));
    const share = Math.ceil(p.streams.length / Math.max(1, live));
    const kept = p.streams.filter(s => this.held.has(s) && this.held.get(s)!.state !== 'releasing');
    if (kept.length > share) {
      for (const stream of kept.slice(share)) {
        this.held.get(stream)!.state = 'releasing';
        this.deps.logger.log?.(`Giving up partition ${stream} once its entries here have settled (${live} consumers share ${p.streams.length} partitions)`);
      }
    } else if (kept.length < share) {
      let need = share - kept.length;
      // Partitions being given up are still ours: keep those first.
      for (const stream of p.streams) {
        const lease = this.held.get(stream);
        if (need > 0 && lease?.state === 'releasing') {
          lease.state = 'owned';
          need--;
        }
      }
      if (need > 0) await this.take(p, need);
    }
    await this.releaseSettled(p);
    for (const stream of p.streams) {
      const lease = this.held.get(stream);
      if (lease?.state === 'taking' && !lease.takingOver) this.takeOver(stream, lease);
    }
  }

  /** Renews a lease we hold; a lease another consumer holds now is lost. */
  private async renew(stream: string): Promise<void> {
    const { redis, options } = this.deps;
    const lease = this.held.get(stream)!;
    const sentAt = Date.now();
    const lapsed = lease.validUntil <= sentAt;
    let renewed: number;
    try {
      renewed = await runScript<number>(redis, 'partitionLeaseRenew', this.leaseKeys(stream), [options.consumer, this.ttl]);
    } catch (err) {
      this.deps.onError(err);
      return; // the lease runs out by our clock unless a later renewal gets through
    }
    if (this.held.get(stream) !== lease) return;
    if (renewed <= 0) return this.lose(stream, 'its lease expired and another consumer holds it, or it was deleted');
    lease.validUntil = sentAt + this.ttl - this.margin;
    // While the lease looked lapsed here, entries of the partition were let go (they are pending in Redis):
    // take them again, in order, before reading on. Nobody else can have taken the partition meanwhile: the
    // renewal only succeeds if the lease never expired.
    if (lapsed && lease.state === 'owned') lease.state = 'taking';
  }

  /**
   * A consumer restarted under the same name (a stable `consumer`, as recommended) finds leases its previous run
   * held: it takes them back at once, as it takes back its own pending entries, instead of waiting for them to
   * expire. (Renewing succeeds only for a lease held under our name.)
   */
  private async adopt(p: OwnedPattern): Promise<void> {
    const { redis, options } = this.deps;
    const sentAt = Date.now();
    const renewed = await Promise.all(
      p.streams.map(s => (this.held.has(s) ? 0 : runScript<number>(redis, 'partitionLeaseRenew', this.leaseKeys(s), [options.consumer, this.ttl]))),
    );
    this.adopted.add(p.pattern);
    p.streams.forEach((stream, i) => {
      if (renewed[i] <= 0) return;
      this.held.set(stream, { state: 'taking', validUntil: sentAt + this.ttl - this.margin, generation: renewed[i] });
      this.deps.logger.log?.(`Took back partition ${stream}, held under this consumer's name by its previous run`);
    });
  }

  /** Takes up to `need` free partitions (SET NX PX on their lease keys, a new generation each), starting at a place of our own. */
  private async take(p: OwnedPattern, need: number): Promise<void> {
    const { redis, options } = this.deps;
    const n = p.streams.length;
    // Consumers start their attempts at different partitions (by their name's hash) rather than all at {0}.
    const start = partitionOf(options.consumer, n);
    for (let k = 0; k < n && need > 0 && !this.stopped; k++) {
      const stream = p.streams[(start + k) % n];
      if (this.held.has(stream)) continue;
      const sentAt = Date.now();
      const generation = await runScript<number>(redis, 'partitionLeaseTake', this.leaseKeys(stream), [options.consumer, this.ttl]);
      if (generation <= 0) continue;
      this.held.set(stream, { state: 'taking', validUntil: sentAt + this.ttl - this.margin, generation });
      this.deps.logger.log?.(`Took partition ${stream} (lease generation ${generation}); taking its pending entries before reading it`);
      need--;
    }
  }

  /** Starts taking the partition's pending entries, once nothing of it is held here any more. */
  private takeOver(stream: string, lease: PartitionLease): void {
    // Entries of it still held here (running when the lease lapsed, or waiting for a retry) must settle first:
    // the entries taken now would otherwise run after, or beside, later ones.
    if (this.heldEntries(stream) > 0) return;
    const stillOurs = () => !this.stopped && this.held.get(stream) === lease && lease.state === 'taking' && lease.validUntil > Date.now();
    // Entries run here last are acked without waiting (the dispatcher's ordered path): their XACKs must land
    // first, or the take-over would find them pending and run them again.
    lease.takingOver = this.deps
      .flushAcks()
      .then(() => (stillOurs() ? this.deps.intake.takeOver(stream, stillOurs) : false))
      .then(done => {
        if (!done || !stillOurs()) return;
        lease.state = 'owned';
        this.notify();
      })
      .catch(err => this.deps.onError(err))
      .finally(() => (lease.takingOver = undefined));
  }

  /** Gives up the partitions being released whose entries have all settled here (acked, and no read in flight). */
  private async releaseSettled(p: OwnedPattern): Promise<void> {
    const settled = p.streams.filter(s => this.held.get(s)?.state === 'releasing' && !this.reads.has(s) && this.heldEntries(s) === 0);
    if (settled.length === 0) return;
    // The new owner takes whatever is still pending: what ran here must be acked by then, or it runs again.
    await this.deps.flushAcks();
    const { redis, options, keys } = this.deps;
    await Promise.all(
      settled.map(async stream => {
        const lease = this.held.get(stream);
        if (lease?.state !== 'releasing' || this.reads.has(stream) || this.heldEntries(stream) > 0) return;
        this.held.delete(stream);
        await runScript(redis, 'partitionLeaseRelease', [keys.partitionOwner(stream, options.group)], [options.consumer]);
        this.deps.logger.log?.(`Gave up partition ${stream}`);
      }),
    );
    this.notify();
  }

  private lose(stream: string, why: string): void {
    this.held.delete(stream);
    this.deps.letGo(stream);
    this.deps.logger.warn?.(`Lost partition ${stream}: ${why}; its entries waiting here are left pending for its new owner`);
    this.notify();
  }

  /** A partition's lease key and its generation counter (one slot: both start with the partition's name). */
  private leaseKeys(stream: string): [string, string] {
    const { keys, options } = this.deps;
    return [keys.partitionOwner(stream, options.group), keys.partitionGeneration(stream, options.group)];
  }

  private heldEntries(stream: string): number {
    return this.deps.leases.heldIds(stream).size;
  }

  private notify(): void {
    const changed = this.changed;
    this.changed = undefined;
    changed?.resolve();
  }
}
