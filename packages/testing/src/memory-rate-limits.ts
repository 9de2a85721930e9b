import type { RateLimitGate, Route } from '@nestream/transport/internal';
import type { MemoryBroker } from './memory-broker.js';

/**
 * The rate limits of the bed's servers: the same token bucket as the consumer's script (`rate-limit-take-1.lua`,
 * kept as the time the bucket is full again), shared by every server of the bed through the broker, on the
 * bed's virtual clock, so `drain()` moves through the waits without real time passing.
 */
export class MemoryRateLimits implements RateLimitGate {
  private readonly waits = new Set<() => void>();
  private stopped = false;

  constructor(private readonly broker: MemoryBroker) {}

  async take(route: Route): Promise<boolean> {
    const { key, max, perMs } = route.rateLimit!;
    while (!this.stopped) {
      const now = this.broker.clock.now();
      const after = Math.max(this.broker.rateLimits.get(key) ?? 0, now) + perMs / max;
      const waitMs = after - now - perMs;
      if (waitMs <= 0) {
        this.broker.rateLimits.set(key, after);
        return true;
      }
      await this.sleep(Math.ceil(waitMs));
    }
    return false;
  }

  /** Ends every wait (close()): their entries stay pending, unrun. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.waits) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const wake = () => {
        cancel();
        this.waits.delete(wake);
        this.broker.rateLimitWaits--;
        resolve();
      };
      const cancel = this.broker.clock.setTimeout(wake, ms);
      this.waits.add(wake);
      this.broker.rateLimitWaits++;
    });
  }
}
