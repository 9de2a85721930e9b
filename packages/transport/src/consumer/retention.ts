import type { LoggerService } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import { runScript } from '../redis/lua.js';
import type { ResolvedRetention } from '../options/retention.js';
import type { ConsumerInstrumentation } from '../observability/instrumentation.js';
import type { EmitEvent, RetentionEvent } from '../events.js';

export interface RetentionDeps {
  redis: RedisClient;
  /** The streams with a retention, and theirs. */
  policies: ReadonlyMap<string, ResolvedRetention>;
  logger: LoggerService;
  emit: EmitEvent;
  instrumentation: ConsumerInstrumentation;
}

// A stream held more than this far over its maxLen is worth a warning (once per interval of that stream).
const HELD_BACK_WARNING_FACTOR = 2;

/**
 * Safe retention: trims each stream with a retention, at most once per its intervalMs, only below what every
 * group has read and acked (`retention-trim-1.lua`, one atomic step). Run by the claim loop's round.
 */
export class Retention {
  private readonly nextRunAt = new Map<string, number>();

  constructor(private readonly deps: RetentionDeps) {}

  async tick(now = Date.now()): Promise<void> {
    for (const [stream, policy] of this.deps.policies) {
      if ((this.nextRunAt.get(stream) ?? 0) > now) continue;
      this.nextRunAt.set(stream, now + policy.intervalMs);
      this.report(stream, policy, await this.trim(stream, policy));
    }
  }

  private async trim(stream: string, policy: ResolvedRetention): Promise<RetentionEvent> {
    const arg = (n: number | undefined) => (n === undefined ? '' : n);
    const [trimmed, floorId, heldBackBy, hardTrimmed, droppedUnread, length] = await runScript<[number, string, string, number, number, number]>(
      this.deps.redis,
      'retentionTrim',
      [stream],
      [arg(policy.maxLen), arg(policy.maxAgeMs), arg(policy.hardMaxLen)],
    );
    return {
      stream,
      trimmed,
      hardTrimmed,
      droppedUnread: droppedUnread === 1,
      floorId: floorId === '' ? undefined : floorId,
      heldBackBy: heldBackBy === '' ? undefined : heldBackBy,
      length,
    };
  }

  private report(stream: string, policy: ResolvedRetention, event: RetentionEvent): void {
    const { logger } = this.deps;
    this.deps.emit('retention', event);
    if (event.trimmed > 0 || event.hardTrimmed > 0) this.deps.instrumentation.retentionTrimmed(stream, event.trimmed, event.hardTrimmed);
    if (event.droppedUnread) {
      logger.warn?.(
        `Retention of ${stream}: hardMaxLen ${policy.hardMaxLen} dropped ${event.hardTrimmed} entries, some not yet read or acked` +
          (event.heldBackBy ? ` by group ${event.heldBackBy} (its oldest needed entry is ${event.floorId})` : ' (the stream has no consumer group)'),
      );
    } else if (policy.maxLen !== undefined && event.length > HELD_BACK_WARNING_FACTOR * policy.maxLen) {
      logger.warn?.(
        `Retention of ${stream}: ${event.length} entries kept, over ${HELD_BACK_WARNING_FACTOR}x maxLen ${policy.maxLen}, because ` +
          (event.heldBackBy ? `group ${event.heldBackBy} has not read and acked past ${event.floorId}` : 'the stream has no consumer group to say what was read'),
      );
    }
  }
}
