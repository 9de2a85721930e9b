import { pipelineBySlot, type RedisClient } from '../redis/redis-client.js';
import type { StreamEntry } from './stream-entry.js';

// Our clock and Redis's differ by the command's travel time: claim with a little less idle than we measured.
export const CLOCK_MARGIN_MS = 100;

/** The streams of @MessagePattern handlers: their entries are taken over after claim.requestMinIdleMs. */
export interface RequestLeases {
  streams: ReadonlySet<string>;
  minIdleMs: number;
}

/**
 * The entries this consumer holds (in flight or waiting for a retry), and when Redis last restarted each
 * one's idle time for us.
 *
 * Another consumer's XAUTOCLAIM takes an entry idle longer than claim.minIdleMs. A long handler or a long
 * backoff would lose its entry that way, so held entries are renewed (XCLAIM ... JUSTID, which resets the
 * idle time without counting a delivery). Each XCLAIM we send carries min-idle = the time since our last
 * touch: if another consumer claimed the entry since, its idle is shorter and our XCLAIM is a no-op, so
 * we never take an entry back from whoever claimed it.
 *
 * The touch time is taken when the reply arrives, never before the command was sent: Redis reset the idle
 * time somewhere in between, and a time from before would make our next min-idle larger than Redis's idle.
 *
 * Held entries sit in a slab (an array with a free list) and carry their index and touch time themselves:
 * holding and releasing an entry allocates nothing.
 */
export class Leases {
  private readonly slab: Array<StreamEntry | undefined> = [];
  private readonly freeIndexes: number[] = [];
  private count = 0;
  /** The renewal round in flight: until it is back, our touch times may be older than Redis's. */
  private renewing?: Promise<void>;

  constructor(
    private readonly redis: RedisClient,
    private readonly group: string,
    private readonly consumer: string,
    /** claim.minIdleMs: past it without a renewal, another consumer may have taken the entry. */
    private readonly minIdleMs: number,
    /** The streams of requests, with their shorter min-idle (claim.requestMinIdleMs). */
    private readonly requests?: RequestLeases,
  ) {}

  /** The min-idle past which another consumer may take an entry of `stream` (claim.minIdleMs, or requestMinIdleMs). */
  minIdleOf(stream: string): number {
    return this.requests?.streams.has(stream) ? this.requests.minIdleMs : this.minIdleMs;
  }

  /** Holds the entry (or touches it again if held), as of `touchedAt`. */
  hold(entry: StreamEntry, touchedAt = Date.now()): void {
    entry.touchedAt = touchedAt;
    if (entry.leaseIndex >= 0) return;
    const index = this.freeIndexes.length > 0 ? this.freeIndexes.pop()! : this.slab.length;
    this.slab[index] = entry;
    entry.leaseIndex = index;
    this.count++;
  }

  /** Holds an entry taken back for its retry (an XCLAIM: a new delivery) with the fields Redis returned. */
  holdRedelivered(entry: StreamEntry, fields: string[], touchedAt: number): void {
    entry.fields = fields;
    entry.deliveryCount++;
    this.hold(entry, touchedAt);
  }

  release(entry: StreamEntry): void {
    const index = entry.leaseIndex;
    if (index < 0 || this.slab[index] !== entry) return;
    this.slab[index] = undefined;
    this.freeIndexes.push(index);
    entry.leaseIndex = -1;
    this.count--;
  }

  /**
   * Whether the entry is still ours: held, and either touched recently enough that nobody can have claimed
   * it, or confirmed by Redis now (an XCLAIM ... JUSTID that only succeeds if nobody claimed it since).
   * An entry found lost is released.
   */
  async confirm(entry: StreamEntry): Promise<boolean> {
    if (entry.leaseIndex < 0) return false;
    const minIdleMs = this.minIdleOf(entry.stream);
    if (Date.now() - entry.touchedAt < minIdleMs - Math.min(CLOCK_MARGIN_MS, minIdleMs / 4)) return true;
    await this.whenSettled();
    if (entry.leaseIndex < 0) return false;
    const now = Date.now();
    const ids = (await this.redis.xclaim(entry.stream, this.group, this.consumer, this.minIdleFor(entry, now), entry.id, 'JUSTID')) as string[];
    if (entry.leaseIndex < 0) return false;
    if (ids.length > 0) {
      entry.touchedAt = Date.now();
      return true;
    }
    this.release(entry);
    return false;
  }

  /**
   * Resolves once no renewal is in flight. An XCLAIM guarded by minIdleFor() must wait for it: a renewal
   * Redis runs first restarts the idle time our min-idle is computed from, and the XCLAIM would fail.
   */
  whenSettled(): Promise<void> {
    return this.renewing ?? Promise.resolve();
  }

  /** min-idle for an XCLAIM that must only succeed if nobody claimed the entry since our last touch. */
  minIdleFor(entry: StreamEntry, now = Date.now()): number {
    return Math.max(0, now - entry.touchedAt - CLOCK_MARGIN_MS);
  }

  /** The ids of `stream` held now (claim and recovery paths only: a scan of the slab). */
  heldIds(stream: string): Set<string> {
    const ids = new Set<string>();
    for (const e of this.slab) if (e && e.stream === stream) ids.add(e.id);
    return ids;
  }

  /** The entries of `stream` with these ids held now (rare paths only: a scan of the slab). */
  heldEntries(stream: string, ids: readonly string[]): StreamEntry[] {
    const wanted = new Set(ids);
    const found: StreamEntry[] = [];
    for (const e of this.slab) if (e && e.stream === stream && wanted.has(e.id)) found.push(e);
    return found;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Renews every lease older than `olderThanMs` (a request's: `requestsOlderThanMs`): one XCLAIM ... JUSTID per
   * stream and touch time (entries read together share both). Returns the entries found lost (another consumer
   * has them now, or they no longer exist); they are released.
   */
  renew(olderThanMs: number, requestsOlderThanMs = olderThanMs): Promise<StreamEntry[]> {
    const round = this.renewRound(olderThanMs, requestsOlderThanMs);
    // Settled only once the touch times are updated, not merely when Redis has answered.
    this.renewing = round.then(
      () => undefined,
      () => undefined,
    );
    return round.finally(() => (this.renewing = undefined));
  }

  private async renewRound(olderThanMs: number, requestsOlderThanMs: number): Promise<StreamEntry[]> {
    const now = Date.now();
    const groups = new Map<string, StreamEntry[]>();
    const requests = this.requests?.streams;
    for (const entry of this.slab) {
      if (!entry || now - entry.touchedAt < (requests?.has(entry.stream) ? requestsOlderThanMs : olderThanMs)) continue;
      const key = `${entry.stream}\u0000${entry.touchedAt}`;
      const group = groups.get(key);
      if (group) group.push(entry);
      else groups.set(key, [entry]);
    }
    if (groups.size === 0) return [];
    const sent = [...groups.values()].map(entries => ({ entries, touchedAt: entries[0].touchedAt }));
    const results = await pipelineBySlot(this.redis, sent, ({ entries }) => entries[0].stream, (pipeline, { entries, touchedAt }) => {
      const minIdle = Math.max(0, now - touchedAt - CLOCK_MARGIN_MS);
      pipeline.xclaim(entries[0].stream, this.group, this.consumer, minIdle, ...entries.map(e => e.id), 'JUSTID');
    });
    const renewedAt = Date.now();
    const lost: StreamEntry[] = [];
    sent.forEach(({ entries, touchedAt }, i) => {
      const [err, ids] = results[i][0] ?? [new Error('no reply')];
      if (err) return; // try again next round
      const renewed = new Set(ids as string[]);
      for (const entry of entries) {
        if (entry.leaseIndex < 0 || entry.touchedAt !== touchedAt) continue; // settled or touched meanwhile
        if (renewed.has(entry.id)) entry.touchedAt = renewedAt;
        else {
          this.release(entry);
          lost.push(entry);
        }
      }
    });
    return lost;
  }
}
