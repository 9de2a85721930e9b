import type { Route } from './route.js';

/**
 * Where an attempt waits for its turn under its handler's rate limit (`route.rateLimit`). The consumer's is kept
 * in Redis (RedisRateLimits), shared by the group; the test kit's in memory, on its virtual clock.
 */
export interface RateLimitGate {
  /**
   * Resolves true once a run of `route`'s handler is allowed, or false when the consumer is stopping first: the
   * entry must then stay pending, unrun, for whoever comes next.
   */
  take(route: Route): Promise<boolean>;
}
