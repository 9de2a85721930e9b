import type { MessageHandler } from '@nestjs/microservices';
import type { Route } from '../consumer/route.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { StreamKeys } from '../keys.js';
import { deadLetterKeyOf } from '../options/dead-letter.js';
import { resolveRetention } from '../options/retention.js';
import { resolveRetry } from '../options/retry.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { checkRoute } from './check-route.js';

// An ordered partition's acks written together at most (extras.ackBatch): what a SIGKILL may re-run per partition.
const MAX_ACK_BATCH = 1000;

/**
 * One route per handler (one per partition of a partitioned one), keyed by stream, from the handlers Nest
 * registered: extras checked, retry policy, retention and dead-letter stream resolved. Shared by RedisStreamsServer and the test kit's
 * in-memory server, so both accept and refuse the same handlers.
 */
export function buildRoutes(
  handlers: Iterable<[string, MessageHandler]>,
  options: ResolvedServerOptions,
  keys: StreamKeys,
): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const [pattern, handler] of handlers) {
    const extras = checkRoute(pattern, handler);
    const isEvent = handler.isEventHandler === true;
    const where = `@${isEvent ? 'Event' : 'Message'}Pattern('${pattern}')`;
    if (extras.batch && !isEvent) throw new InvalidOptionsError(`${where} extras.batch`, 'batch is for @EventPattern handlers only');
    if (extras.ordered && extras.batch) throw new InvalidOptionsError(`${where} extras`, 'ordered and batch cannot be combined');
    if (extras.partitions !== undefined && !isEvent) {
      throw new InvalidOptionsError(`${where} extras.partitions`, 'requests are not partitioned: partitions is for @EventPattern handlers only');
    }
    if (extras.partitions !== undefined && extras.ordered) checkLeaseTiming(options, where);
    if (extras.ackBatch !== undefined && !(extras.ordered && extras.partitions !== undefined)) {
      throw new InvalidOptionsError(`${where} extras.ackBatch`, 'is for ordered partitions only ({ partitions, ordered: true }): other handlers\' acks are batched already');
    }
    if (extras.ackBatch !== undefined && extras.ackBatch > MAX_ACK_BATCH) {
      throw new InvalidOptionsError(`${where} extras.ackBatch`, `must be an integer from 1 to ${MAX_ACK_BATCH}, got ${extras.ackBatch}`);
    }
    if (extras.rateLimit && !isEvent) {
      throw new InvalidOptionsError(`${where} extras.rateLimit`, "is for @EventPattern handlers only: a request's caller is waiting");
    }
    if (extras.rateLimit && extras.batch) throw new InvalidOptionsError(`${where} extras`, 'rateLimit and batch cannot be combined');
    const rateLimit = extras.rateLimit && { key: keys.rateLimit(options.group, pattern), ...extras.rateLimit };
    // A request's caller is waiting: no retry unless the handler asks for it (extras.retry), so a failure
    // reaches the caller at once, as with Nest's built-in transports.
    const retry = resolveRetry(isEvent ? options.retry : { ...options.retry, maxAttempts: 1 }, extras.retry, `${where} extras.retry`);
    const retention = resolveRetention(options.retention, extras.retention);
    const route = (stream: string, partition?: Route['partition']): Route => ({
      stream, pattern, handler, isEvent, retry, ordered: extras.ordered === true, batch: extras.batch === true, partition, ackBatch: extras.ackBatch ?? 1, retention, rateLimit,
      deadLetterKey: deadLetterKeyOf(options.deadLetter, stream),
    });
    const count = extras.partitions;
    if (count === undefined) {
      const stream = keys.stream(pattern);
      routes.set(stream, route(stream));
    } else {
      keys.partitions(pattern, count).forEach((stream, index) => routes.set(stream, route(stream, { index, count })));
    }
  }
  return routes;
}

/**
 * An ordered partition's lease lasts claim.minIdleMs, renewed every claim.intervalMs; its owner reads it only
 * while the lease outlasts a blocking read (blockMs). With less time than that, partitions would keep lapsing.
 */
function checkLeaseTiming(options: ResolvedServerOptions, where: string): void {
  const { claim, blockMs } = options;
  const needed = 2 * claim.intervalMs + blockMs;
  if (claim.minIdleMs < needed) {
    throw new InvalidOptionsError(
      'claim.minIdleMs',
      `is ${claim.minIdleMs}; with ordered partitions (${where}) it is the partition lease time, and must be at least 2 x claim.intervalMs + blockMs (${needed}): a lease renewed every intervalMs must outlast a blocking read`,
    );
  }
}
