import type { RedisClient } from '../redis/redis-client.js';
import type { ConsumerInstrumentation } from '../observability/instrumentation.js';
import type { ResolvedServerOptions } from '../options/server.js';
import type { XPendingRow } from '../redis/replies.js';
import type { Dispatcher } from './dispatcher.js';
import type { FailureRecord } from './failure-record.js';
import type { GoneEntries } from './gone-entries.js';
import { CLOCK_MARGIN_MS, type Leases } from './leases.js';
import type { EmitEvent } from '../events.js';
import type { Slots } from './slots.js';
import { streamEntry } from './stream-entry.js';
import type { Utf8Guard } from './utf8-guard.js';

type XAutoClaimReply = [next: string, entries: Array<[string, string[] | null] | null>, deleted?: string[]];
type XClaimReply = Array<[string, string[] | null]>;

export interface PendingIntakeDeps {
  redis: RedisClient;
  options: ResolvedServerOptions;
  leases: Leases;
  slots: Slots;
  dispatcher: Dispatcher;
  gone: GoneEntries;
  emit: EmitEvent;
  instrumentation: ConsumerInstrumentation;
  /** Entries not valid UTF-8 are dead-lettered, not handed over altered (also when claimed). */
  utf8Guard: Utf8Guard;
  /** How many of an entry's earlier deliveries failed (the rest were interrupted). */
  failures: FailureRecord;
}

/**
 * The one way pending entries (already delivered once) come in: this consumer's own after a restart or a
 * lost read reply, and other consumers' stale ones (XAUTOCLAIM). Both take no more than the dispatcher has
 * room for, hold no slot across a round trip, skip entries held here already, report trimmed ids, read the
 * delivery counts from XPENDING, hold the entries and hand them to the dispatcher.
 */
export class PendingIntake {
  /** XAUTOCLAIM cursor per stream: kept between calls, so a pass walks the whole pending list. */
  private readonly cursors = new Map<string, string>();

  constructor(private readonly deps: PendingIntakeDeps) {}

  /**
   * Takes back this consumer's own pending entries of `stream`, oldest first: XPENDING (ours, with their idle
   * times and delivery counts) then XCLAIM with a min-idle just under the smallest idle seen, so an entry
   * another consumer claimed in between (its idle restarted) is left to it.
   */
  async recoverOwn(stream: string, isRunning: () => boolean): Promise<void> {
    const { redis, options, slots, dispatcher } = this.deps;
    let start = '-';
    while (isRunning()) {
      await slots.whenFree();
      const room = Math.min(options.readBatchSize, Math.max(1, dispatcher.capacity));
      const rows = (await redis.xpending(stream, options.group, start, '+', room, options.consumer)) as XPendingRow[];
      if (rows.length === 0 || !isRunning()) return;
      start = `(${rows[rows.length - 1][0]}`;
      const held = this.deps.leases.heldIds(stream);
      const mine = rows.filter(([id]) => !held.has(id));
      if (mine.length === 0) continue;
      const minIdle = Math.max(0, Math.min(...mine.map(([, , idle]) => Number(idle))) - CLOCK_MARGIN_MS);
      const claimed = (await redis.xclaim(stream, options.group, options.consumer, minIdle, ...mine.map(([id]) => id))) as XClaimReply;
      const counts = new Map(mine.map(([id, , , n]) => [id, Number(n) + 1]));
      const live = claimed.filter((e): e is [string, string[]] => Boolean(e?.[1]));
      const returned = new Set(live.map(([id]) => id));
      await this.accept(stream, live, counts);
      // Not returned: trimmed (Redis 7 drops them from the pending list), or claimed by another consumer.
      await this.deps.gone.sortOut(stream, mine.map(([id]) => id).filter(id => !returned.has(id)));
    }
  }

  /**
   * Takes every pending entry of an ordered partition whose lease this consumer has just taken, whoever holds
   * them, oldest first, and hands them over in id order, so they run before anything new is read from it.
   * Returns true once none is left, false if `stillOwned()` turned false first.
   *
   * XCLAIM with min-idle 0: everywhere else the transport claims only entries idle longer than
   * claim.minIdleMs, because only idle time tells a dead holder from a live one. Here the partition's lease
   * tells it: the previous owner's lease ended (expired or given up), and an owner checks its lease before it
   * runs each entry of the partition, so nobody else runs these entries any more.
   */
  async takeOver(stream: string, stillOwned: () => boolean): Promise<boolean> {
    const { redis, options, slots, dispatcher } = this.deps;
    let start = '-';
    while (stillOwned()) {
      await slots.whenFree();
      const room = Math.min(options.readBatchSize, Math.max(1, dispatcher.capacity));
      const rows = (await redis.xpending(stream, options.group, start, '+', room)) as XPendingRow[];
      if (!stillOwned()) return false;
      if (rows.length === 0) return true;
      start = `(${rows[rows.length - 1][0]}`;
      const held = this.deps.leases.heldIds(stream);
      const ids = rows.map(([id]) => id).filter(id => !held.has(id));
      if (ids.length === 0) continue;
      const claimed = (await redis.xclaim(stream, options.group, options.consumer, 0, ...ids)) as XClaimReply;
      const counts = new Map(rows.map(([id, , , n]) => [id, Number(n) + 1]));
      const live = claimed.filter((e): e is [string, string[]] => Boolean(e?.[1]));
      const returned = new Set(live.map(([id]) => id));
      await this.accept(stream, live, counts);
      // With min-idle 0 an id is left out only when its entry is gone (trimmed or deleted).
      await this.deps.gone.report(stream, ids.filter(id => !returned.has(id)));
    }
    return false;
  }

  /**
   * One XAUTOCLAIM call for `stream`: entries idle longer than claim.minIdleMs (requestMinIdleMs for a request's stream), from any consumer (a crashed
   * one's, or ours after a stall). Redis hands over only entries idle >= min-idle and restarts their idle
   * time, so two consumers claiming at once never both get one. Returns false when the pass is complete.
   */
  async claimStale(stream: string): Promise<boolean> {
    const { redis, options, dispatcher } = this.deps;
    const room = Math.min(options.claim.batchSize, dispatcher.capacity);
    if (room === 0) return false; // busy: the pass goes on from its cursor next round
    const cursor = this.cursors.get(stream) ?? '0-0';
    const [next, entries, deleted = []] = (await redis.xautoclaim(
      stream, options.group, options.consumer, this.deps.leases.minIdleOf(stream), cursor, 'COUNT', room,
    )) as XAutoClaimReply;
    this.cursors.set(stream, next);
    // Redis 7 reports trimmed ids in `deleted`; 6.2 returns them with no fields.
    const gone = [...deleted];
    const live: Array<[string, string[]]> = [];
    const held = entries.length > 0 ? this.deps.leases.heldIds(stream) : undefined;
    for (const e of entries) {
      if (!e) continue;
      if (!e[1]) gone.push(e[0]);
      else if (!held!.has(e[0])) live.push([e[0], e[1]]);
    }
    await this.deps.gone.report(stream, gone);
    if (live.length > 0) {
      await this.accept(stream, live, await this.deliveryCounts(stream, live[0][0], live[live.length - 1][0], live.length));
      this.deps.emit('claimed', { stream, ids: live.map(([id]) => id) });
      this.deps.instrumentation.claimed(stream, live.length);
    }
    return next !== '0-0';
  }

  /**
   * Holds the entries (as of when the claim's reply came: it restarted their idle time) and hands them over,
   * with their failed attempts looked up.
   */
  private async accept(stream: string, live: Array<[string, string[]]>, counts: Map<string, number>): Promise<void> {
    if (live.length === 0) return;
    const now = Date.now();
    const entries = live.map(([id, fields]) => streamEntry(stream, id, fields, counts.get(id) ?? 1));
    await this.deps.failures.lookUp(stream, entries);
    for (const entry of entries) this.deps.leases.hold(entry, now);
    this.deps.dispatcher.submit(await this.deps.utf8Guard.screen(entries));
  }

  /** XAUTOCLAIM does not say how often an entry was delivered: ask XPENDING for the claimed range. */
  private async deliveryCounts(stream: string, first: string, last: string, n: number): Promise<Map<string, number>> {
    const { redis, options } = this.deps;
    const rows = (await redis.xpending(stream, options.group, first, last, n + this.deps.leases.size, options.consumer)) as XPendingRow[];
    return new Map(rows.map(([id, , , count]) => [id, Number(count)]));
  }
}
