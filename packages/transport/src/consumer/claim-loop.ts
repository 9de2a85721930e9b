import type { RedisClient } from '../redis/redis-client.js';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedServerOptions } from '../options/server.js';
import { removeIdleConsumers } from './consumer-cleanup.js';
import type { GoneEntries } from './gone-entries.js';
import type { Leases } from './leases.js';
import type { PendingIntake } from './pending-intake.js';
import type { StreamOwnership } from './partition-ownership.js';
import type { Redelivery } from './redelivery.js';
import type { Retention } from './retention.js';
import type { StreamEntry } from './stream-entry.js';
import type { UnreadTrims } from './unread-trims.js';

export interface ClaimLoopDeps {
  redis: RedisClient;
  options: ResolvedServerOptions;
  streams: string[];
  leases: Leases;
  intake: PendingIntake;
  redelivery: Redelivery;
  logger: LoggerService;
  onError: (err: unknown) => void;
  /** With ordered partitions: renewed and shared out each round; only owned partitions are claimed from. */
  ownership?: StreamOwnership;
  /** With a `retention` option: trims the streams, each at most once per its interval. */
  retention?: Retention;
  /** Tells trimmed entries from taken-over ones, and reports the trimmed. */
  gone: GoneEntries;
  /** Counts entries trimmed before the group read them, once per round. */
  unreadTrims: UnreadTrims;
}

/**
 * Every claim.intervalMs: renews the leases of entries held here, then runs one XAUTOCLAIM pass over each
 * stream's pending list through the pending intake (entries idle longer than claim.minIdleMs: their
 * consumer crashed or hangs), then, if configured, trims the streams (safe retention) and removes idle consumers
 * that have nothing pending. With
 * ordered partitions, each round first runs the ownership round (leases renewed, partitions shared out).
 */
export class ClaimLoop {
  private timer?: NodeJS.Timeout;
  private running = false;
  private current?: Promise<void>;

  constructor(private readonly deps: ClaimLoopDeps) {}

  start(): void {
    this.running = true;
    // Take partitions at once, not one interval after start.
    const { ownership } = this.deps;
    if (ownership) this.current = ownership.tick().catch(err => this.deps.onError(err));
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** One round: renew, claim, clean up. The timer runs it; tests may call it. */
  async runRound(): Promise<void> {
    const { leases, redelivery, intake, options, streams, ownership } = this.deps;
    if (ownership) await ownership.tick();
    // Renew well before minIdleMs runs out, so a slow handler's entry is never taken from it. A request (its
    // min-idle as short as 2 rounds) is renewed at every round, unless touched within the last half round.
    const lost = await leases.renew(Math.floor(options.claim.minIdleMs / 3), Math.floor(Math.min(options.claim.requestMinIdleMs / 3, options.claim.intervalMs / 2)));
    for (const entry of lost) redelivery.cancel(entry);
    await this.sortOutLost(lost);
    for (const stream of streams) {
      if (ownership && !ownership.owns(stream)) continue;
      while (this.running && (await intake.claimStale(stream)));
    }
    await this.deps.unreadTrims.check(streams);
    await this.deps.retention?.tick();
    if (options.consumerCleanup !== false) {
      for (const stream of streams) {
        const removed = await removeIdleConsumers(this.deps.redis, stream, options.group, options.consumer, options.consumerCleanup.idleMs);
        if (removed.length > 0) this.deps.logger.log?.(`Removed idle consumers without pending entries from ${stream}: ${removed.join(', ')}`);
      }
    }
  }

  /**
   * Held entries whose renewal failed: trimmed or deleted (reported as deleted, their handler may still be
   * running: its result is ignored), or claimed by another consumer (it runs them now).
   */
  private async sortOutLost(lost: StreamEntry[]): Promise<void> {
    const byStream = new Map<string, StreamEntry[]>();
    for (const entry of lost) {
      const list = byStream.get(entry.stream);
      if (list) list.push(entry);
      else byStream.set(entry.stream, [entry]);
    }
    for (const [stream, entries] of byStream) {
      // renew() released them already. Marked gone while they are sorted out, so that a settler meeting one
      // meanwhile leaves the report to this round instead of making it a second time; taken-over ones unmarked.
      for (const entry of entries) entry.gone = true;
      let takenOver: string[];
      try {
        takenOver = await this.deps.gone.sortOut(stream, entries.map(e => e.id), 'while held here (its handler running or its retry waiting)');
      } catch (err) {
        for (const entry of entries) entry.gone = false;
        this.deps.logger.warn?.(`Could not tell whether ${entries.length} entries of ${stream} whose lease here ran out were trimmed or taken over: ${(err as Error).message}`);
        continue;
      }
      const taken = new Set(takenOver);
      for (const entry of entries) if (taken.has(entry.id)) entry.gone = false;
      for (const id of takenOver) this.deps.logger.warn?.(`Entry ${id} of ${stream} was taken over by another consumer (its lease here ran out); it is not settled here`);
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.runRound()
        .catch(err => this.deps.onError(err))
        .finally(() => this.schedule());
    }, this.deps.options.claim.intervalMs);
  }
}
