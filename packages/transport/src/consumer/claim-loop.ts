import type { RedisClient } from '../redis/redis-client.js';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedServerOptions } from '../options/server.js';
import type { Dispatcher } from './dispatcher.js';
import { removeIdleConsumers } from './consumer-cleanup.js';
import type { GoneEntries } from './gone-entries.js';
import type { Leases } from './leases.js';
import type { PendingIntake } from './pending-intake.js';
import type { StreamOwnership } from './partition-ownership.js';
import type { Retention } from './retention.js';
import type { UnreadTrims } from './unread-trims.js';

export interface ClaimLoopDeps {
  redis: RedisClient;
  options: ResolvedServerOptions;
  streams: string[];
  leases: Leases;
  intake: PendingIntake;
  /** Lets go of entries whose lease was lost (their retry is forgotten, an ordered stream goes on). */
  dispatcher: Dispatcher;
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
    const { leases, dispatcher, intake, options, streams, ownership } = this.deps;
    if (ownership) await ownership.tick();
    // Renew well before minIdleMs runs out, so a slow handler's entry is never taken from it. A request (its
    // min-idle as short as 2 rounds) is renewed at every round, unless touched within the last half round.
    const lost = await leases.renew(Math.floor(options.claim.minIdleMs / 3), Math.floor(Math.min(options.claim.requestMinIdleMs / 3, options.claim.intervalMs / 2)));
    for (const entry of lost) dispatcher.letGo(entry);
    await this.deps.gone.sortOutLost(lost);
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

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.runRound()
        .catch(err => this.deps.onError(err))
        .finally(() => this.schedule());
    }, this.deps.options.claim.intervalMs);
  }
}
