import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { fieldMap } from '../redis/replies.js';
import type { RedisStreamsServer } from '../server/redis-streams.server.js';
import { settleWithin } from '../settle-within.js';

export interface RedisStreamsHealthOptions {
  /** PING must answer within this. @default 1000 */
  timeoutMs?: number;
  /** Down if any handled stream's group has more pending entries than this. @default undefined (not checked) */
  maxPending?: number;
  /** Down if any handled stream's group lags (entries not yet delivered) more than this. @default undefined (not checked) */
  maxLag?: number;
}

// PING answers in well under a millisecond on a healthy Redis; a second without one is an outage for a health check.
const DEFAULT_PING_TIMEOUT_MS = 1000;

type GroupInfo = { name: string; pending: number; lag: number | null };

/**
 * Terminus indicator (from `@nestream/transport/health`; `@nestjs/terminus` is an optional peer):
 * down when Redis does not answer, when the reader loop has not come back from a read for longer than
 * blockMs + watchdogMs (stuck), or when pending / lag exceed the given thresholds.
 */
@Injectable()
export class RedisStreamsHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  async isHealthy<const Key extends string>(
    key: Key,
    server: RedisStreamsServer,
    options: RedisStreamsHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    let commands;
    try {
      commands = server.unwrap<{ commands: import('ioredis').Redis }>().commands;
    } catch {
      return indicator.down({ message: 'transport not listening' });
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    try {
      if (!(await settleWithin(commands.ping(), timeoutMs))) {
        return indicator.down({ message: `Redis did not answer PING within ${timeoutMs} ms` });
      }
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
    const { lastReadAt, inFlight, scheduledRetries } = server.stats;
    const stalledMs = Date.now() - lastReadAt;
    const limit = server.options.blockMs + server.options.watchdogMs + timeoutMs;
    if (lastReadAt > 0 && stalledMs > limit) {
      return indicator.down({ message: `reader loop has not returned from a read for ${stalledMs} ms`, inFlight });
    }
    const streams: Record<string, { pending: number; lag: number | null }> = {};
    if (options.maxPending !== undefined || options.maxLag !== undefined) {
      for (const stream of server.streams) {
        const groups = parseGroups((await commands.xinfo('GROUPS', stream)) as unknown[][]);
        const mine = groups.find(g => g.name === server.options.group);
        if (!mine) continue;
        streams[stream] = { pending: mine.pending, lag: mine.lag };
        if (options.maxPending !== undefined && mine.pending > options.maxPending) {
          return indicator.down({ message: `${stream}: ${mine.pending} pending > maxPending ${options.maxPending}`, streams });
        }
        if (options.maxLag !== undefined && mine.lag !== null && mine.lag > options.maxLag) {
          return indicator.down({ message: `${stream}: lag ${mine.lag} > maxLag ${options.maxLag}`, streams });
        }
      }
    }
    return indicator.up({ inFlight, scheduledRetries, ...(Object.keys(streams).length ? { streams } : {}) });
  }
}

function parseGroups(rows: unknown[][]): GroupInfo[] {
  return rows.map(row => {
    const info = fieldMap(row);
    return { name: String(info.name), pending: Number(info.pending), lag: info.lag === null || info.lag === undefined ? null : Number(info.lag) };
  });
}

