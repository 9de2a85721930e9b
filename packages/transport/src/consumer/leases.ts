import type { Redis } from 'ioredis';

// Our clock and Redis's differ by the command's travel time: claim with a little less idle than we measured.
const CLOCK_MARGIN_MS = 100;


/**
 * The entries this consumer holds (in flight or waiting for a retry), and when each was last touched.
 *
 * Another consumer's XAUTOCLAIM takes an entry idle longer than claim.minIdleMs. A long handler or a long
 * backoff would lose its entry that way, so held entries are renewed (XCLAIM ... JUSTID, which resets the
 * idle time without counting a delivery). Each XCLAIM we send carries min-idle = the time since our last
 * touch: if another consumer claimed the entry since, its idle is shorter and our XCLAIM is a no-op, so
 * we never take an entry back from whoever claimed it.
 */
export class Leases {
  // Per stream, then per id -> when we last read, claimed or renewed the entry (Redis's idle time restarts
  // then). Nested maps of numbers: no key string nor object to allocate per entry on the hot path.
  private held = new Map<string, Map<string, number>>();
  private count = 0;

  constructor(
    private readonly redis: Redis,
    private readonly group: string,
    private readonly consumer: string,
  ) {}

  /** A unique key for (stream, id), for callers that need one (retry queue). */
  static key(stream: string, id: string): string {
    return `${stream}\u0000${id}`;
  }

  add(stream: string, id: string, now = Date.now()): void {
    let ids = this.held.get(stream);
    if (!ids) this.held.set(stream, (ids = new Map()));
    if (!ids.has(id)) this.count++;
    ids.set(id, now);
  }

  has(stream: string, id: string): boolean {
    return this.held.get(stream)?.has(id) ?? false;
  }

  delete(stream: string, id: string): void {
    if (this.held.get(stream)?.delete(id)) this.count--;
  }

  get size(): number {
    return this.count;
  }

  private touchedAt(stream: string, id: string): number | undefined {
    return this.held.get(stream)?.get(id);
  }

  /** min-idle for an XCLAIM that must only succeed if nobody touched the entry since we did. */
  private minIdleFor(stream: string, id: string, now = Date.now()): number {
    const touchedAt = this.touchedAt(stream, id);
    return touchedAt !== undefined ? Math.max(0, now - touchedAt - CLOCK_MARGIN_MS) : 0;
  }

  /**
   * Takes the entry again (XCLAIM, counting a delivery) for a retry. Returns its fields, or undefined
   * if it is gone: acked, trimmed, or claimed by another consumer meanwhile.
   */
  async reclaim(stream: string, id: string): Promise<string[] | undefined> {
    const minIdle = this.minIdleFor(stream, id);
    const reply = (await this.redis.xclaim(stream, this.group, this.consumer, minIdle, id)) as [string, string[] | null][];
    const entry = reply?.[0];
    if (!entry || !entry[1]) {
      this.delete(stream, id);
      return undefined;
    }
    this.add(stream, id);
    return entry[1];
  }

  /**
   * Renews every lease older than `olderThanMs`. Returns the leases found lost (another consumer has the
   * entry now, or it no longer exists); they are forgotten.
   */
  async renew(olderThanMs: number): Promise<Array<{ stream: string; id: string }>> {
    const now = Date.now();
    const due: Array<{ stream: string; id: string; touchedAt: number }> = [];
    for (const [stream, ids] of this.held) {
      for (const [id, touchedAt] of ids) if (now - touchedAt >= olderThanMs) due.push({ stream, id, touchedAt });
    }
    if (due.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const l of due) {
      pipeline.xclaim(l.stream, this.group, this.consumer, Math.max(0, now - l.touchedAt - CLOCK_MARGIN_MS), l.id, 'JUSTID');
    }
    const results = (await pipeline.exec()) ?? [];
    const lost: Array<{ stream: string; id: string }> = [];
    due.forEach((lease, i) => {
      const [err, ids] = results[i] ?? [new Error('no reply')];
      if (err) return; // try again next round
      if (this.touchedAt(lease.stream, lease.id) !== lease.touchedAt) return; // settled or touched meanwhile
      if (Array.isArray(ids) && ids.length > 0) this.held.get(lease.stream)!.set(lease.id, now);
      else {
        this.delete(lease.stream, lease.id);
        lost.push({ stream: lease.stream, id: lease.id });
      }
    });
    return lost;
  }
}
