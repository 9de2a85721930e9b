import type { LoggerService } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import type { EmitEvent } from './settler.js';

/**
 * Pending ids whose entries no longer exist (trimmed by MAXLEN/MINID, or XDELed): every path that meets
 * them (a read of own pending entries, XAUTOCLAIM, a retry's take-back) reports them here, once.
 */
export class GoneEntries {
  constructor(
    private readonly redis: RedisClient,
    private readonly group: string,
    private readonly logger: LoggerService,
    private readonly emit: EmitEvent,
  ) {}

  /** Acks the ids (Redis 7 already dropped most from the pending list), emits `deleted` and logs one line. */
  async report(stream: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.xack(stream, this.group, ...ids);
    this.emit('deleted', { stream, ids });
    this.logger.warn?.(`Dropped ${ids.length} pending id${ids.length === 1 ? '' : 's'} of ${stream} whose entries were trimmed or deleted`);
  }

  /**
   * An XCLAIM did not return some ids: either their entries are gone (trimmed), or another consumer has them.
   * Tells the two apart (XRANGE of each id) and reports the gone ones. Returns the ids another consumer has.
   */
  async sortOut(stream: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xrange(stream, id, id);
    const replies = (await pipeline.exec()) ?? [];
    const gone: string[] = [];
    const takenOver: string[] = [];
    ids.forEach((id, i) => {
      const [err, found] = replies[i] ?? [];
      if (!err && Array.isArray(found) && found.length === 0) gone.push(id);
      else takenOver.push(id);
    });
    await this.report(stream, gone);
    return takenOver;
  }
}
