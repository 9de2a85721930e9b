import type { LoggerService } from '@nestjs/common';
import { runScript } from '../redis/lua.js';
import { redisErrorMessage } from '../redis/replies.js';
import type { RedisClient } from '../redis/redis-client.js';
import { SYSTEM_CLOCK, type AttemptClock } from './attempt-clock.js';
import type { RateLimitGate } from './rate-limit-gate.js';
import type { Route } from './route.js';

// Redis refused or could not be reached: ask again after this long (the reader is waiting on Redis too).
const RETRY_AFTER_ERROR_MS = 1000;

export interface RedisRateLimitsDeps {
  redis: RedisClient;
  logger: LoggerService;
  clock?: AttemptClock;
}

/**
 * The group's rate limits, kept in Redis (`rate-limit-take-1.lua`, one key per group and pattern): every consumer
 * of the group takes its tokens from the same bucket. A refused take waits the time the script names, then asks
 * again; stop() ends every wait at once (close()).
 */
export class RedisRateLimits implements RateLimitGate {
  private readonly waits = new Set<() => void>();
  private stopped = false;
  /** Logged once per run of failures, not once per entry waiting. */
  private failing = false;

  constructor(private readonly deps: RedisRateLimitsDeps) {}

  async take(route: Route): Promise<boolean> {
    const limit = route.rateLimit!;
    while (!this.stopped) {
      let waitMs: number;
      try {
        waitMs = await runScript<number>(this.deps.redis, 'rateLimitTake', [limit.key], [limit.max, limit.perMs]);
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.deps.logger.error(`Rate limit of ${route.pattern}: could not take a token (${redisErrorMessage(err)}); asking again every ${RETRY_AFTER_ERROR_MS} ms`);
        this.failing = true;
        waitMs = RETRY_AFTER_ERROR_MS;
      }
      if (waitMs === 0) return !this.stopped;
      await this.sleep(waitMs);
    }
    return false;
  }

  /** Ends every wait: their entries stay pending, unrun. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.waits) wake();
    this.waits.clear();
  }

  private sleep(ms: number): Promise<void> {
    const clock = this.deps.clock ?? SYSTEM_CLOCK;
    return new Promise(resolve => {
      const wake = () => {
        cancel();
        this.waits.delete(wake);
        resolve();
      };
      const cancel = clock.setTimeout(wake, ms);
      this.waits.add(wake);
    });
  }
}
