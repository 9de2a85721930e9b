import type { LoggerService } from '@nestjs/common';
import type { ConsumerInstrumentation } from '../observability/instrumentation.js';
import type { RedisClient } from '../redis/redis-client.js';
import type { Leases } from './leases.js';
import type { StreamEntry } from './stream-entry.js';
import type { EmitEvent } from '../events.js';

// Entries lost before the group read them are logged at most once per stream per minute (with the count since
// the last line): a producer's maxLen that keeps outrunning a consumer trims on every XADD.
const UNREAD_LOG_INTERVAL_MS = 60_000;

const WHILE_HELD = 'while held here (its handler running or its retry waiting)';

export interface GoneEntriesDeps {
  redis: RedisClient;
  /** Entries held here that are found gone are let go (their handler's result, or retry, is moot). */
  leases: Leases;
  group: string;
  logger: LoggerService;
  emit: EmitEvent;
  instrumentation: ConsumerInstrumentation;
}

/**
 * Entries that disappeared (trimmed by MAXLEN/MINID or XTRIM, or XDELed) before they were handled: every path
 * that meets them reports them here, once: a `deleted` event, the `nestream_messages_trimmed_total` metric and a
 * log line that says trimmed. Pending ones (delivered, not settled) are met by a read of own pending entries,
 * XAUTOCLAIM, a retry's take-back, a lease renewal or a dead-letter move; unread ones (never delivered to the
 * group) by UnreadTrims.
 */
export class GoneEntries {
  /** Per stream: unread entries counted since its last log line, and when that line was written. */
  private readonly unreadLog = new Map<string, { at: number; unlogged: number }>();

  constructor(private readonly deps: GoneEntriesDeps) {}

  /** Acks pending ids whose entries are gone (Redis 7 already dropped most from the pending list) and reports them. */
  async report(stream: string, ids: string[], when?: string): Promise<void> {
    if (ids.length === 0) return;
    await this.deps.redis.xack(stream, this.deps.group, ...ids);
    this.counted(stream, ids, when);
  }

  /**
   * Reports pending ids whose entries are gone and that are acked already (or are being acked). Those held
   * here are marked gone and released, so that no other path (a renewal, the settler) reports them again.
   */
  counted(stream: string, ids: string[], when?: string): void {
    if (ids.length === 0) return;
    const held = this.deps.leases.heldEntries(stream, ids);
    for (const entry of held) {
      entry.gone = true;
      this.deps.leases.release(entry);
    }
    when ??= held.length === ids.length ? WHILE_HELD : 'before being handled';
    this.deps.emit('deleted', { stream, ids, count: ids.length, unread: false });
    this.deps.instrumentation.trimmed(stream, 'pending', ids.length);
    const which = ids.length === 1 ? `entry ${ids[0]}` : `${ids.length} pending entries (${preview(ids)})`;
    this.deps.logger.warn?.(`Trimmed: ${which} of ${stream} trimmed or deleted ${when}; acked and reported as deleted`);
  }

  /**
   * Entries the group never read that are gone: reported as one `deleted` event (no ids: nobody saw them) and
   * the metric every time; the warning at most once per stream per UNREAD_LOG_INTERVAL_MS.
   */
  unread(stream: string, count: number, now = Date.now()): void {
    if (count <= 0) return;
    this.deps.emit('deleted', { stream, ids: [], count, unread: true });
    this.deps.instrumentation.trimmed(stream, 'unread', count);
    const log = this.unreadLog.get(stream) ?? { at: -Infinity, unlogged: 0 };
    log.unlogged += count;
    this.unreadLog.set(stream, log);
    if (now - log.at < UNREAD_LOG_INTERVAL_MS) return;
    this.deps.logger.warn?.(
      `Trimmed: ${log.unlogged} entr${log.unlogged === 1 ? 'y' : 'ies'} of ${stream} trimmed or deleted before group "${this.deps.group}" read them` +
        `${Number.isFinite(log.at) ? ' (since the last such warning)' : ''}. Likely cause: a producer's maxLen (XADD MAXLEN) smaller than the backlog ` +
        `this group had yet to read; give the stream a bound no consumer group can fall behind (see the trims section of the docs)`,
    );
    log.at = now;
    log.unlogged = 0;
  }

  /**
   * An XCLAIM did not return some ids: either their entries are gone (trimmed), or another consumer has them.
   * Tells the two apart (XRANGE of each id) and reports the gone ones. Returns the ids another consumer has.
   */
  async sortOut(stream: string, ids: string[], when?: string): Promise<string[]> {
    if (ids.length === 0) return [];
    const pipeline = this.deps.redis.pipeline();
    for (const id of ids) pipeline.xrange(stream, id, id);
    const replies = (await pipeline.exec()) ?? [];
    const gone: string[] = [];
    const takenOver: string[] = [];
    ids.forEach((id, i) => {
      const [err, found] = replies[i] ?? [];
      if (!err && Array.isArray(found) && found.length === 0) gone.push(id);
      else takenOver.push(id);
    });
    await this.report(stream, gone, when);
    return takenOver;
  }

  /**
   * Held entries whose lease renewal failed (the claim loop's): trimmed or deleted (reported as deleted, their handler may still be
   * running: its result is ignored), or claimed by another consumer (it runs them now).
   */
  async sortOutLost(lost: StreamEntry[]): Promise<void> {
    const byStream = new Map<string, StreamEntry[]>();
    for (const entry of lost) {
      const list = byStream.get(entry.stream);
      if (list) list.push(entry);
      else byStream.set(entry.stream, [entry]);
    }
    for (const [stream, entries] of byStream) {
      // renew() released them already. Marked gone while they are sorted out, so that a settler meeting one
      // meanwhile leaves the report to this round instead of making it a second time; taken-over ones unmarked.
      for (const entry of entries) entry.gone = true;
      let takenOver: string[];
      try {
        takenOver = await this.sortOut(stream, entries.map(e => e.id), WHILE_HELD);
      } catch (err) {
        for (const entry of entries) entry.gone = false;
        this.deps.logger.warn?.(`Could not tell whether ${entries.length} entries of ${stream} whose lease here ran out were trimmed or taken over: ${(err as Error).message}`);
        continue;
      }
      const taken = new Set(takenOver);
      for (const entry of entries) if (taken.has(entry.id)) entry.gone = false;
      for (const id of takenOver) this.deps.logger.warn?.(`Entry ${id} of ${stream} was taken over by another consumer (its lease here ran out); it is not settled here`);
    }
  }
}

/** The first few ids of a list, for a log line. */
function preview(ids: string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')}, ...`;
}
