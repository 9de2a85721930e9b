import type { MessageHandler } from '@nestjs/microservices';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkHandlerExtras, type RedisStreamsHandlerExtras } from '../options.js';

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

/** Checks a handler's pattern and extras before listen() reads anything; returns its extras. */
export function checkRoute(pattern: string, handler: MessageHandler): RedisStreamsHandlerExtras {
  const where = `${handler.isEventHandler ? '@EventPattern' : '@MessagePattern'}('${pattern}')`;
  assertConcretePattern(pattern, where);
  return checkHandlerExtras(handler.extras, where);
}
