import type { RedisClient } from '../redis/redis-client.js';
import { runScript } from '../redis/lua.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { readConsumers, requireStream } from './stream-info.js';
import type { ConsumerStatus } from './status.js';
import { StreamsAdminError } from './streams-admin.error.js';

export interface PruneConsumersOptions {
  /** Consumers idle at least this long (and with no pending entries) are removed. */
  idleMs: number;
  /** Report what would be removed, change nothing. @default false */
  dryRun?: boolean;
}

export interface PruneConsumersResult {
  stream: string;
  group: string;
  dryRun: boolean;
  /** Removed (or, in a dry run, to be removed). */
  removed: ConsumerStatus[];
  /** Idle long enough but kept: they hold pending entries, which XGROUP DELCONSUMER would drop for good. */
  keptWithPending: ConsumerStatus[];
  /** Consumers not idle long enough. */
  active: number;
}

/**
 * Removes a group's consumers idle at least `idleMs` that have no pending entry. The check and the delete
 * run in one script (`consumer-cleanup-1.lua`), so an entry delivered to a consumer in between keeps it.
 */
export async function pruneConsumers(
  redis: RedisClient,
  options: ResolvedAdminOptions,
  name: string,
  group: string,
  opts: PruneConsumersOptions,
): Promise<PruneConsumersResult> {
  if (typeof opts.idleMs !== 'number' || !Number.isFinite(opts.idleMs) || opts.idleMs < 0) {
    throw new StreamsAdminError('bad-option', `idleMs must be a finite number >= 0, got ${String(opts.idleMs)}`);
  }
  const key = options.keyPrefix + name;
  await requireStream(redis, key, name);
  const consumers = await readConsumers(redis, key, group);
  const result: PruneConsumersResult = { stream: name, group, dryRun: !!opts.dryRun, removed: [], keptWithPending: [], active: 0 };
  for (const consumer of consumers) {
    if (consumer.idleMs < opts.idleMs) result.active++;
    else if (consumer.pending > 0) result.keptWithPending.push(consumer);
    else if (opts.dryRun) result.removed.push(consumer);
    else if ((await runScript(redis, 'consumerCleanup', [key], [group, consumer.name])) === 1) result.removed.push(consumer);
    else result.keptWithPending.push(consumer); // an entry was delivered to it since XINFO CONSUMERS
  }
  return result;
}
