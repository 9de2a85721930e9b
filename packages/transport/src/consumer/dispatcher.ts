import type { LoggerService } from '@nestjs/common';
import type { Attempt } from './attempt.js';
import type { AttemptResult } from './attempt-result.js';
import { decide, type Decision } from './failure-policy.js';
import type { LateCompletions } from './late-completions.js';
import type { Leases } from './leases.js';
import type { PartitionLeaseView } from './partition-lease-table.js';
import type { Redelivery, TakenBack } from './redelivery.js';
import type { Route } from './route.js';
import type { Settled, Settler } from './settler.js';
import type { Slots } from './slots.js';
import type { StreamEntry } from './stream-entry.js';

/**
 * An ordered stream's entries, run one at a time, each holding a slot. `retrying` is the head while it
 * waits for its retry: it keeps its slot (the entries behind it hold theirs, so it must not need a new one).
 */
interface OrderedQueue {
  entries: StreamEntry[];
  running: boolean;
  retrying?: StreamEntry;
}

export interface DispatcherDeps {
  routes: Map<string, Route>;
  slots: Slots;
  leases: Leases;
  attempt: Attempt;
  settler: Settler;
  /** Where retries wait; the dispatcher takes them back when due, as far as it has room. */
  redelivery: Redelivery;
  /** Waiting retries at most before the reader stops reading new entries (maxWaitingRetries). */
  maxWaitingRetries: number;
  logger: LoggerService;
  /** Ordered partitions: the leases held here; an entry of a partition runs only while its lease is valid. */
  partitionLeases?: PartitionLeaseView;
  /** Ordered partitions: after each call, reports it if the lease it started under was lost meanwhile. */
  lateCompletions?: Pick<LateCompletions, 'check'>;
  /** Ordered partitions: their acks, written before the next entry runs and waited for in batches. */
  acks?: OrderedAcks;
}

/** What the ordered path asks of the acker (Acker implements it). */
export interface OrderedAcks {
  /** Acks of `stream` queued and not written to the connection yet. */
  queued(stream: string): number;
  /** Writes the acks queued for `stream` to the connection now. */
  sendNow(stream: string): void;
  /** Acks of `stream` not confirmed by Redis yet. */
  unconfirmed(stream: string): number;
  /** Resolves once every ack of `stream` queued so far was confirmed (or dropped at stop). */
  whenConfirmed(stream: string): Promise<void>;
}

/**
 * An ordered partition runs on while at most this many of its finished entries' acks are unconfirmed (or twice
 * its ackBatch, if more); then it waits for them. A SIGKILL never loses an ack already written (the kernel still
 * delivers it), so it re-runs only the entry that was running and, with ackBatch n, the at most n - 1 finished
 * ones whose acks were still queued; a lost connection or host can lose written acks: then the partition's next
 * owner re-runs at most this many finished entries and the running one, in their order, before newer ones.
 */
export const ORDERED_UNCONFIRMED_ACKS = 32;

/**
 * Runs held entries within the concurrency slots: each runs one attempt, the failure policy decides, the
 * settler carries it out (ack, dead letter), and a retry is scheduled in redelivery, from where the
 * dispatcher takes it back when it falls due and there is room. Entries beyond the free slots wait in a
 * backlog, first in first out; ordered streams run one entry at a time, their retries included; a batch
 * handler's entries of one submission go to it together. Control goes one way: the dispatcher calls
 * attempt, policy, settler and redelivery; none of them calls it.
 */
export class Dispatcher {
  private readonly backlog: StreamEntry[] = [];
  private readonly ordered = new Map<string, OrderedQueue>();
  /** The readers waiting for room: one, or one per slot group on a Redis Cluster. */
  private readerWakes: Array<() => void> = [];
  private stopped = false;
  /** Entries holding a slot (running, or queued on an ordered stream). */
  private active = 0;

  constructor(private readonly deps: DispatcherDeps) {
    deps.redelivery.onDue(() => this.takeBackDue());
  }

  get inFlight(): number {
    return this.active;
  }

  /** Room for entries taken back for a retry. */
  get capacity(): number {
    return Math.max(0, this.deps.slots.free - this.backlog.length);
  }

  /**
   * How many new entries the reader may read now: none while held entries or due retries wait for room, or
   * while maxWaitingRetries retries wait (a downstream outage must not pull the whole backlog into memory).
   */
  get readable(): number {
    const { redelivery } = this.deps;
    if (this.backlog.length > 0 || redelivery.hasDue || redelivery.waiting >= this.deps.maxWaitingRetries) return 0;
    return this.deps.slots.free;
  }

  /** Resolves when `readable` > 0, or at stop (the waiters are the readers). */
  whenReadable(): Promise<void> {
    if (this.readable > 0 || this.stopped) return Promise.resolve();
    return new Promise(resolve => this.readerWakes.push(resolve));
  }

  /** Entries must be held (leased). Runs as many as slots allow; the rest wait in order. */
  submit(entries: StreamEntry[]): void {
    let batches: Map<Route, StreamEntry[]> | undefined;
    for (const entry of entries) {
      if (this.stopped) {
        this.letGoUnrun(entry);
        continue;
      }
      if (this.ordered.get(entry.stream)?.retrying === entry) {
        this.resumeOrdered(entry);
        continue;
      }
      if (this.backlog.length > 0 || this.deps.slots.take(1) === 0) {
        this.backlog.push(entry);
        continue;
      }
      batches = this.start(entry, batches);
    }
    if (batches) for (const [route, batch] of batches) void this.runBatch(route, batch);
  }

  /** A held entry's lease was lost: its retry, if any, is forgotten, and its ordered stream goes on without it. */
  letGo(entry: StreamEntry): void {
    this.deps.redelivery.cancel(entry);
    this.goOnWithout(entry);
  }

  /** A retry will not come back (lease lost, trimmed, shutdown): its ordered stream goes on without it. */
  private goOnWithout(entry: StreamEntry): void {
    const queue = this.ordered.get(entry.stream);
    if (queue?.retrying === entry) {
      queue.retrying = undefined;
      this.done();
      void this.runOrdered(entry.stream, queue);
    }
    this.wakeReaders();
  }

  /**
   * This consumer no longer holds the lease of an ordered partition: its entries waiting here (not the one
   * running) are let go, unacked: they stay pending in Redis, and the partition's new owner takes them.
   */
  letGoPartition(stream: string): void {
    const queue = this.ordered.get(stream);
    if (queue) this.dropOrdered(queue, queue.running ? 1 : 0);
  }

  /** Stops starting entries; held ones not started are released (they stay pending in Redis). */
  stop(): void {
    this.stopped = true;
    for (const e of this.backlog.splice(0)) this.letGoUnrun(e);
    for (const queue of this.ordered.values()) {
      const waiting = queue.entries.splice(queue.running ? 1 : 0);
      if (queue.retrying) waiting.push(queue.retrying);
      queue.retrying = undefined;
      for (const e of waiting) this.letGoUnrun(e);
      this.done(waiting.length);
    }
    this.wakeReaders();
  }

  /**
   * An entry that will not run here: released (it stays pending in Redis for whoever comes next), or, if the
   * read script dead-lettered it already (oversized: moved and acked inside Redis, never pending again), its
   * report is made now, since nobody else will see it.
   */
  private letGoUnrun(entry: StreamEntry): void {
    const screened = entry.screened;
    const route = this.deps.routes.get(entry.stream);
    if (screened?.kind === 'rejected' && screened.moved && route) this.settle(route, entry, screened, false);
    else this.deps.leases.release(entry);
  }

  /** The entry holds a slot: run it, queue it on its ordered stream, or add it to a batch of this submission. */
  private start(entry: StreamEntry, batches: Map<Route, StreamEntry[]> | undefined): Map<Route, StreamEntry[]> | undefined {
    this.active++;
    const route = this.deps.routes.get(entry.stream);
    if (!route) {
      // Cannot happen: only streams with a handler are read. Leave it pending rather than lose it.
      this.deps.logger.error(`No handler for stream ${entry.stream}; entry ${entry.id} left pending`);
      this.deps.leases.release(entry);
      this.done();
    } else if (route.batch) {
      batches ??= new Map();
      const batch = batches.get(route);
      if (batch) batch.push(entry);
      else batches.set(route, [entry]);
    } else if (route.ordered) {
      this.enqueueOrdered(route, entry);
    } else {
      void this.runOne(route, entry);
    }
    return batches;
  }

  /** One entry, in a promise chain rather than an async function: the common ack settles without another turn. */
  private runOne(route: Route, entry: StreamEntry): void {
    void this.deps.attempt.run(route, entry).then(
      result => {
        let settling: boolean | Promise<boolean>;
        try {
          settling = this.settle(route, entry, result, false);
        } catch (err) {
          this.done();
          throw err;
        }
        if (typeof settling === 'boolean') this.done();
        else return settling.then(() => this.done());
      },
      err => {
        this.done();
        throw err;
      },
    );
  }

  private async runBatch(route: Route, entries: StreamEntry[]): Promise<void> {
    try {
      const results = await this.deps.attempt.runBatch(route, entries);
      // Acks settle at once; only the entries that need Redis (a retry, a dead letter) are waited for.
      let settling: Array<Promise<boolean>> | undefined;
      for (let i = 0; i < entries.length; i++) {
        const settled = this.settle(route, entries[i], results[i], false);
        if (typeof settled !== 'boolean') (settling ??= []).push(settled);
      }
      if (settling) await Promise.all(settling);
    } finally {
      this.done(entries.length);
    }
  }

  private enqueueOrdered(route: Route, entry: StreamEntry): void {
    let queue = this.ordered.get(route.stream);
    if (!queue) this.ordered.set(route.stream, (queue = { entries: [], running: false }));
    queue.entries.push(entry);
    void this.runOrdered(route.stream, queue);
  }

  /** The head's retry came back (with the slot it kept): it goes first, before the entries behind it. */
  private resumeOrdered(entry: StreamEntry): void {
    const queue = this.ordered.get(entry.stream)!;
    queue.retrying = undefined;
    queue.entries.unshift(entry);
    void this.runOrdered(entry.stream, queue);
  }

  /** One entry at a time; a retry pauses the stream until the entry comes back (or is let go). */
  private async runOrdered(stream: string, queue: OrderedQueue): Promise<void> {
    if (queue.running || queue.retrying) return;
    const route = this.deps.routes.get(stream)!;
    const { partitionLeases } = this.deps;
    queue.running = true;
    try {
      while (queue.entries.length > 0 && !queue.retrying && !this.stopped) {
        if (route.partition && partitionLeases && !partitionLeases.mayRun(stream)) {
          // Our lease on the partition ran out: another consumer may own it by now. Running on could run an
          // entry beside, or after, later ones there.
          this.deps.logger.warn?.(`Lease of partition ${stream} not valid here any more; ${queue.entries.length} entries left pending for its owner`);
          this.dropOrdered(queue, 0);
          continue; // freeing the slots may have queued more of it (from the backlog): let those go too
        }
        const entry = queue.entries[0];
        const token = route.partition ? partitionLeases?.fencingToken(stream) : undefined;
        const result = await this.deps.attempt.run(route, entry, token);
        // A call that outlived its lease (a stalled event loop): another consumer may have run the partition meanwhile.
        if (token !== undefined) this.deps.lateCompletions?.check(stream, entry.id, token);
        // With ackBatch, acks of entries before this one may still be queued: a dead-letter move or a retry's
        // bookkeeping goes after them, so that Redis settles the partition's entries in order.
        if (route.partition && result.kind !== 'handled') this.deps.acks?.sendNow(stream);
        // The head keeps its slot while it waits for its retry: the entries behind it hold theirs.
        const retrying = await this.settle(route, entry, result, true);
        queue.entries.shift();
        if (retrying) queue.retrying = entry;
        else {
          this.done();
          if (route.partition) await this.afterOrderedAck(stream, route.ackBatch);
        }
      }
    } finally {
      queue.running = false;
    }
  }

  /**
   * An ordered partition's entry was acked (queued) or dead-lettered: its XACK is written before the next entry
   * runs (with `ackBatch` n: once n are queued, the acker's end-of-turn flush writing fewer sooner), not waited
   * for (a round trip per entry); the partition waits only once ORDERED_UNCONFIRMED_ACKS (or 2n) are
   * unconfirmed (a failed ack counts until it lands). A dead-letter move or a retry's bookkeeping goes on the
   * same connection after the XACKs written before it, so Redis settles a partition's entries in order.
   */
  private async afterOrderedAck(stream: string, ackBatch: number): Promise<void> {
    const acks = this.deps.acks;
    if (!acks) return;
    if (acks.queued(stream) >= ackBatch) acks.sendNow(stream);
    if (acks.unconfirmed(stream) >= Math.max(ORDERED_UNCONFIRMED_ACKS, 2 * ackBatch)) await acks.whenConfirmed(stream);
  }

  /** Releases an ordered queue's entries from index `from` on, and its head waiting for a retry; frees their slots. */
  private dropOrdered(queue: OrderedQueue, from: number): void {
    const dropped = queue.entries.splice(from);
    const retrying = queue.retrying;
    queue.retrying = undefined;
    if (retrying) dropped.push(retrying);
    for (const e of dropped) this.letGoUnrun(e);
    if (retrying) this.deps.redelivery.cancel(retrying);
    if (dropped.length > 0) this.done(dropped.length);
  }

  /**
   * Policy, then settler; a retry is scheduled in redelivery (`keepsSlot`: the entry keeps its slot while it
   * waits). Returns true when the entry now waits for a retry. Never rejects.
   */
  private settle(route: Route, entry: StreamEntry, result: AttemptResult, keepsSlot: boolean): boolean | Promise<boolean> {
    // The attempt number counts handler failures only: a delivery a crash interrupted is not an attempt.
    const decision = decide({ route, attempt: entry.failures + 1, result, deadline: entry.message?.deadline });
    let applied: Settled | Promise<Settled>;
    try {
      applied = this.deps.settler.apply(route, entry, decision);
    } catch (err) {
      return this.unsettled(entry, err);
    }
    if (typeof applied === 'string') return this.afterSettling(entry, decision, applied, keepsSlot);
    return applied.then(
      settled => this.afterSettling(entry, decision, settled, keepsSlot),
      err => this.unsettled(entry, err),
    );
  }

  private afterSettling(entry: StreamEntry, decision: Decision, settled: Settled, keepsSlot: boolean): boolean {
    if (settled !== 'retrying' || decision.kind !== 'retry') return false;
    try {
      this.deps.redelivery.schedule(entry, decision.delayMs, keepsSlot);
      return true;
    } catch (err) {
      return this.unsettled(entry, err);
    }
  }

  /** The settler reports its own Redis errors; anything else is a bug: keep the entry pending, not lost. */
  private unsettled(entry: StreamEntry, err: unknown): false {
    this.deps.leases.release(entry);
    this.deps.logger.error(`Could not settle entry ${entry.id} of ${entry.stream}, it stays pending: ${(err as Error)?.message ?? err}`);
    return false;
  }

  private drainBacklog(): void {
    let batches: Map<Route, StreamEntry[]> | undefined;
    while (this.backlog.length > 0 && this.deps.slots.take(1) === 1) batches = this.start(this.backlog.shift()!, batches);
    if (batches) for (const [route, batch] of batches) void this.runBatch(route, batch);
  }

  /** Frees slots: the backlog goes first, then due retries, then the reader. */
  private done(n = 1): void {
    this.active -= n;
    this.deps.slots.release(n);
    if (this.backlog.length > 0 && !this.stopped) this.drainBacklog();
    this.takeBackDue();
    this.wakeReaders();
  }

  /** Takes back the retries due, as far as there is room (an ordered head that kept its slot needs none). */
  private takeBackDue(): void {
    const taking = this.deps.redelivery.takeDue(this.capacity);
    if (taking) void taking.then(back => this.retaken(back));
  }

  /**
   * Taken back retries run again, each on its own (a batch handler's retry is not batched with other retries:
   * an entry that fails its batch must not take others down with it); lost ones (trimmed, claimed elsewhere,
   * shutdown) let their ordered stream go on.
   */
  private retaken({ taken, lost }: TakenBack): void {
    for (const entry of lost) this.goOnWithout(entry);
    for (const entry of taken) this.submit([entry]);
  }

  /** Every waiting reader: each reads at most `readable` (a cluster's readers may overshoot it together; the backlog keeps the extra). */
  private wakeReaders(): void {
    if (this.readerWakes.length === 0 || (this.readable === 0 && !this.stopped)) return;
    const wakes = this.readerWakes;
    this.readerWakes = [];
    for (const wake of wakes) wake();
  }
}
