import type { MessageHandler } from '@nestjs/microservices';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkHandlerExtras, type RedisStreamsHandlerExtras } from '../options/handler-extras.js';

/**
 * A pattern with `*` or `>` is a wildcard on other transports (NATS `math.*`, `orders.>`). Here each pattern
 * is one stream, read by its exact key (XREADGROUP takes keys, not patterns), so such a handler would read a
 * stream literally named `math.*` that no producer writes to, and its callers would time out: rejected.
 */
export function assertConcretePattern(pattern: string, where: string): void {
  if (/[*>]/.test(pattern)) {
    throw new InvalidOptionsError(
      where,
      'wildcard patterns are not supported: each pattern is one Redis stream, read by its exact name; register a handler per name (e.g. \'math.sum\')',
    );
  }
}

/**
 * Checks a handler's pattern and extras before listen() reads anything; returns its extras. Nest chains the
 * `@EventPattern` handlers of one pattern (`handler.next`) and keeps only the first one's extras: handlers
 * whose extras differ are an error rather than settings silently dropped.
 */
export function checkRoute(pattern: string, handler: MessageHandler): RedisStreamsHandlerExtras {
  const where = `${handler.isEventHandler ? '@EventPattern' : '@MessagePattern'}('${pattern}')`;
  assertConcretePattern(pattern, where);
  const extras = checkHandlerExtras(handler.extras, where);
  for (let next = handler.next as MessageHandler | undefined; next; next = next.next as MessageHandler | undefined) {
    const other = checkHandlerExtras(next.extras, where);
    if (JSON.stringify(other) !== JSON.stringify(extras)) {
      throw new InvalidOptionsError(
        `${where} extras`,
        `the pattern has several handlers with different extras (${JSON.stringify(extras)} and ${JSON.stringify(other)}); they share one stream and one retry policy: give them the same extras`,
      );
    }
  }
  return extras;
}
