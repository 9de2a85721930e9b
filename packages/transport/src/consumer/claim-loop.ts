import type { Redis } from 'ioredis';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedServerOptions } from '../options.js';
import { removeIdleConsumers } from './consumer-cleanup.js';
import type { Dispatcher } from './dispatcher.js';
import type { Leases } from './leases.js';
import type { Slots } from './slots.js';
import { streamEntry } from './stream-entry.js';
import type { XPendingRow } from '../redis/replies.js';

type XAutoClaimReply = [next: string, entries: Array<[string, string[] | null] | null>, deleted?: string[]];

export interface ClaimLoopDeps {
  redis: Redis;
  options: ResolvedServerOptions;
  streams: string[];
  slots: Slots;
  leases: Leases;
  dispatcher: Dispatcher;
  logger: LoggerService;
  emit: (event: string, payload: unknown) => void;
  onError: (err: unknown) => void;
}

/**
 * Every claim.intervalMs: renews the leases of entries held here, then runs one full XAUTOCLAIM pass over
 * each stream's pending list, taking entries idle longer than claim.minIdleMs (their consumer crashed or
 * hangs). Redis only hands over an entry idle >= min-idle and resets its idle time when it does, so two
 * consumers claiming at once never both get it. The cursor is kept between calls: a pass walks the whole
 * list instead of restarting at 0-0 and starving its tail.
 */
export class ClaimLoop {
  private timer?: NodeJS.Timeout;
  private running = false;
  private current?: Promise<void>;
  private readonly cursors = new Map<string, string>();

  constructor(private readonly deps: ClaimLoopDeps) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** Runs one round now (tests and the CLI use it; the timer calls it too). */
  async runOnce(): Promise<void> {
    const { leases, dispatcher, options, streams } = this.deps;
    // Renew well before minIdleMs runs out, so a slow handler's entry is never taken from it.
    const lost = await leases.renew(Math.floor(options.claim.minIdleMs / 3));
    for (const { stream, id } of lost) {
      dispatcher.cancelRetry(stream, id);
      this.deps.logger.warn?.(`Entry ${id} of ${stream} was taken over by another consumer or removed`);
    }
    for (const stream of streams) {
      if (!this.running) return;
      await this.claimStream(stream);
    }
    if (options.consumerCleanup !== false) {
      for (const stream of streams) {
        const removed = await removeIdleConsumers(this.deps.redis, stream, options.group, options.consumer, options.consumerCleanup.idleMs);
        if (removed.length > 0) this.deps.logger.log?.(`Removed idle consumers without pending entries from ${stream}: ${removed.join(', ')}`);
      }
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce()
        .catch(err => this.deps.onError(err))
        .finally(() => this.schedule());
    }, this.deps.options.claim.intervalMs);
  }

  /** One pass over the stream's pending list, as far as free slots allow. */
  private async claimStream(stream: string): Promise<void> {
    const { redis, options, slots, leases, dispatcher } = this.deps;
    let cursor = this.cursors.get(stream) ?? '0-0';
    do {
      // Busy: claim nothing now (the pass goes on from its cursor next round). Waiting here would hold up
      // the lease renewals of the next rounds.
      if (slots.free === 0 || !this.running) return;
      const reserved = slots.take(options.claim.batchSize);
      let used = 0;
      try {
        const [next, entries, deleted = []] = (await redis.xautoclaim(
          stream, options.group, options.consumer, options.claim.minIdleMs, cursor, 'COUNT', reserved,
        )) as XAutoClaimReply;
        cursor = next;
        this.cursors.set(stream, next);
        // Redis 7 drops ids of trimmed entries from the pending list and reports them; 6.2 returns them with
        // no fields. Either way they are acked, so they are never claimed again.
        const gone = [...deleted];
        const live: Array<[string, string[]]> = [];
        const held = entries.length > 0 ? leases.heldIds(stream) : undefined;
        for (const e of entries) {
          if (!e) continue;
          if (!e[1]) gone.push(e[0]);
          else if (!held!.has(e[0])) live.push([e[0], e[1]]);
        }
        if (gone.length > 0) {
          await redis.xack(stream, options.group, ...gone);
          this.deps.emit('deleted', { stream, ids: gone });
          this.deps.logger.warn?.(`Dropped ${gone.length} pending ids of ${stream} whose entries were trimmed or deleted`);
        }
        if (live.length === 0) continue;
        const counts = await this.deliveryCounts(stream, live[0][0], live[live.length - 1][0], live.length);
        const now = Date.now();
        for (const [id, fields] of live) {
          const entry = streamEntry(stream, id, fields, counts.get(id) ?? 1);
          leases.add(entry, now);
          used++;
          dispatcher.dispatch(entry);
        }
        this.deps.emit('claimed', { stream, ids: live.map(([id]) => id) });
      } finally {
        slots.release(reserved - used);
      }
    } while (cursor !== '0-0' && this.running);
  }

  /** XAUTOCLAIM does not say how often an entry was delivered: ask XPENDING for the claimed range. */
  private async deliveryCounts(stream: string, first: string, last: string, n: number): Promise<Map<string, number>> {
    const { redis, options } = this.deps;
    const rows = (await redis.xpending(stream, options.group, first, last, n + this.deps.leases.size, options.consumer)) as XPendingRow[];
    return new Map(rows.map(([id, , , count]) => [id, Number(count)]));
  }
}
