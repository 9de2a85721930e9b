import type { MessageHandler } from '@nestjs/microservices';
import type { DeadLetterKeys } from '../options/dead-letter.js';
import type { ResolvedRetention } from '../options/retention.js';
import type { ResolvedRetry } from '../options/retry.js';

/** What the transport knows about the handler of one stream. */
export interface Route {
  stream: string;
  pattern: string;
  handler: MessageHandler;
  /** @EventPattern (true) or @MessagePattern (false). */
  isEvent: boolean;
  retry: ResolvedRetry;
  ordered: boolean;
  /** Handler takes an array of payloads (extras `{ batch: true }`). */
  batch: boolean;
  /** The partition this route's stream is, of a partitioned pattern (extras `{ partitions }`). */
  partition?: { index: number; count: number };
  /** Ordered partitions: how many finished entries' XACKs may be written together (extras `ackBatch`); 1 for other routes. */
  ackBatch: number;
  /** Safe retention of this stream (the server's `retention` under the handler's extras), undefined when off. */
  retention?: ResolvedRetention;
  /** The group's rate limit on this handler (extras `rateLimit`) and the key it is kept under, undefined when none. */
  rateLimit?: { key: string; max: number; perMs: number };
  /** This stream's dead-letter stream (`deadLetter.key`), undefined with `deadLetter: false` (dead letters dropped). */
  deadLetterKey?: string;
}

/** The routes' dead-letter streams by stream, for the parts that take entries of several streams. */
export function deadLetterKeysOf(routes: Iterable<Route>): DeadLetterKeys {
  const keys = new Map<string, string>();
  for (const route of routes) if (route.deadLetterKey !== undefined) keys.set(route.stream, route.deadLetterKey);
  return keys;
}
