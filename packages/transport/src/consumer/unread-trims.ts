import type { LoggerService } from '@nestjs/common';
import { isPermissionDenied } from '../redis/command-errors.js';
import { runScript } from '../redis/lua.js';
import { redisErrorMessage } from '../redis/replies.js';
import type { RedisClient } from '../redis/redis-client.js';
import type { GoneEntries } from './gone-entries.js';

export interface UnreadTrimsDeps {
  /** The commands connection. */
  redis: RedisClient;
  group: string;
  gone: GoneEntries;
  logger: LoggerService;
  onError: (err: unknown) => void;
}

/**
 * Counts entries trimmed before the group read them (a producer's maxLen outrunning the group, XTRIM, MINID):
 * no read, claim or ack ever meets them, so without this they vanish unseen. One script call per stream
 * (unread-trims-1.lua: XINFO STREAM and GROUPS, inside Redis), run before the reader's first read (at start,
 * after a reconnect), on every claim-loop round, and while reads come back full (a backlog, when a producer's
 * maxLen can overtake the group) before the next read, at most once a second: nothing per entry.
 *
 * The count is exact for entries found trimmed while the group is behind the stream's first entry (a stopped
 * or backlogged consumer at one of those checks). A gap the group reads across between two checks is not
 * seen then: Redis 7.0 keeps it in the group's entries-read counter, so the next check that finds the group
 * behind counts it late; newer Redis versions correct that counter at the read, and such a gap goes uncounted.
 * Each lost entry is counted once per group, whichever consumer checks first (the script records it).
 */
export class UnreadTrims {
  /** XINFO or XGROUP SETID refused by an ACL, or a Redis before 7.0: said once, not tried again. */
  private refused = false;
  /** Streams whose group position Redis does not know (said once each). */
  private readonly unknown = new Set<string>();

  constructor(private readonly deps: UnreadTrimsDeps) {}

  /** Checks each stream once; never rejects (a failure is reported, the next round tries again). */
  async check(streams: readonly string[]): Promise<void> {
    if (this.refused) return;
    await Promise.all(streams.map(stream => this.checkOne(stream)));
  }

  private async checkOne(stream: string): Promise<void> {
    const { redis, group, gone, logger } = this.deps;
    let lost: number;
    let known: number;
    try {
      [lost, known] = await runScript<[number, number]>(redis, 'unreadTrims', [stream], [group]);
    } catch (err) {
      if (this.refused) return;
      if (isPermissionDenied(err)) {
        this.refused = true;
        logger.warn?.(
          `Entries trimmed before group "${group}" read them cannot be counted: ${redisErrorMessage(err)}. ` +
            `Allow XINFO and XGROUP SETID (with EVALSHA) on the streams to have them reported`,
        );
        return;
      }
      this.deps.onError(err);
      return;
    }
    if (known === -1) {
      this.refused = true;
      logger.warn?.('Entries trimmed before a group read them cannot be counted before Redis 7.0 (no entries-added counter): not checked');
      return;
    }
    if (!known && !this.unknown.has(stream)) {
      this.unknown.add(stream);
      logger.warn?.(
        `Redis does not know how far group "${group}" has read ${stream} (XINFO GROUPS entries-read is nil, e.g. after XDEL or an XGROUP SETID ` +
          `without ENTRIESREAD): entries trimmed before the group read them are not counted until it does`,
      );
    }
    gone.unread(stream, lost);
  }
}
