import type { LoggerService } from '@nestjs/common';
import type { StreamKeys } from '../keys.js';
import type { RedisClient } from '../redis/redis-client.js';
import { runScript } from '../redis/lua.js';
import { missingSchedulerPermissions } from '../redis/permissions.js';
import type { ResolvedScheduler } from '../options/scheduler.js';

export interface ScheduledMoverDeps {
  redis: RedisClient;
  keys: StreamKeys;
  /** The event streams whose delayed emits this consumer moves in. */
  streams: readonly string[];
  options: ResolvedScheduler;
  logger: LoggerService;
  onError: (err: unknown) => void;
}

/**
 * Moves delayed emits into their streams when due (`move-due-3.lua`: add and unschedule in one step, so several
 * consumers moving at once, or one dying mid-way, neither lose nor duplicate an entry). Wakes at the earliest
 * due time it learnt, and at least every pollMs to see schedules made since.
 */
export class ScheduledMover {
  private timer?: NodeJS.Timeout;
  private running = false;
  private current?: Promise<void>;
  /** The streams this consumer may move delayed emits of; undefined until checked (Redis may be down at start). */
  private streams?: readonly string[];

  constructor(private readonly deps: ScheduledMoverDeps) {}

  start(): void {
    this.running = true;
    this.current = this.round();
  }

  /**
   * The streams the Redis user may move delayed emits of; for the others, one warning that says what is missing
   * (their delayed emits wait for a consumer that may).
   */
  private async allowedStreams(): Promise<string[]> {
    const { redis, keys, logger } = this.deps;
    const allowed: string[] = [];
    for (const stream of this.deps.streams) {
      const missing = await missingSchedulerPermissions(redis, stream, keys.schedule(stream), keys.scheduledEntries(stream));
      if (missing.length === 0) {
        allowed.push(stream);
        continue;
      }
      const list = missing.map(m => (m.key ? `${m.command} on "${m.key}"` : m.command)).join(', ');
      logger.warn?.(
        `Delayed emits to ${stream} will not be moved in by this consumer: the Redis user may not run ${list}. ` +
          'Grant them, or set scheduler: false on this server to say another consumer moves them',
      );
    }
    return allowed;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** One pass over every stream: moves what is due, then sleeps until the next due entry (pollMs at most). */
  private async round(): Promise<void> {
    let wakeInMs = this.deps.options.pollMs;
    try {
      // Checked once Redis answers; a failure (Redis down at start) is reported and checked again next round.
      this.streams ??= await this.allowedStreams();
      for (const stream of this.streams) {
        if (!this.running) return;
        wakeInMs = Math.min(wakeInMs, await this.moveDue(stream));
      }
    } catch (err) {
      this.deps.onError(err);
    }
    if (!this.running) return;
    this.timer = setTimeout(() => (this.current = this.round()), wakeInMs);
  }

  /** Moves every due entry of one stream (a batch per script call); the ms until its next due entry. */
  private async moveDue(stream: string): Promise<number> {
    const { redis, keys, options } = this.deps;
    const scriptKeys = [stream, keys.schedule(stream), keys.scheduledEntries(stream)];
    for (;;) {
      const [moved, nextInMs] = await runScript<[number, number]>(redis, 'moveDue', scriptKeys, [options.batchSize, '']);
      // A full batch: more may be due now.
      if (moved === options.batchSize && this.running) continue;
      return nextInMs < 0 ? Number.POSITIVE_INFINITY : nextInMs;
    }
  }
}
