import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { RedisClient } from '../redis/redis-client.js';
import { fieldMap } from '../redis/replies.js';
import type { RedisStreamsServer } from '../server/redis-streams.server.js';
import { describeDown, withinMs, type DownReason } from './down-reason.js';

export interface RedisStreamsHealthOptions {
  /** Each check (PING, then the XINFO GROUPS of all handled streams) must answer within this. @default 1000 */
  timeoutMs?: number;
  /** Down if any handled stream's group has more pending entries than this. @default undefined (not checked) */
  maxPending?: number;
  /** Down if any handled stream's group lags (entries not yet delivered) more than this. @default undefined (not checked) */
  maxLag?: number;
}

// PING answers in well under a millisecond on a healthy Redis; a second without one is an outage for a health check.
const DEFAULT_TIMEOUT_MS = 1000;

type GroupInfo = { name: string; pending: number; lag: number | null };
type StreamState = { pending: number; lag: number | null };

/**
 * Terminus indicator (from `@nestream/transport/health`; `@nestjs/terminus` is an optional peer): down, with
 * a `reason` and a `message`, when the transport is not listening, the connection is not up (`connection-refused`,
 * `unreachable`), Redis does not answer in time (`timeout`) or answers with an error (`redis-error`), the reader
 * loop is stuck (`reader-stalled`), a handled stream or its group is missing (`stream-missing`, `group-missing`,
 * with maxPending/maxLag), or pending / lag exceed the given thresholds (`max-pending`, `max-lag`). It never
 * throws: Terminus answers 503 with the reasons, not 500.
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
    const down = (reason: DownReason, message: string, extra: Record<string, unknown> = {}) => indicator.down({ reason, message, ...extra });
    let commands: RedisClient;
    try {
      commands = server.unwrap<{ commands: RedisClient }>().commands;
    } catch {
      return down('not-listening', 'transport not listening');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      // Not connected: say why at once rather than wait for a PING that ioredis would only queue.
      if (commands.status !== 'ready') {
        const { reason, message } = describeDown(server.connectionError, `the connection to Redis is ${commands.status}`);
        return down(reason, message);
      }
      await withinMs(commands.ping(), timeoutMs, `Redis did not answer PING within ${timeoutMs} ms`);
    } catch (err) {
      const { reason, message } = describeDown(err, 'PING failed');
      return down(reason, message);
    }
    const { lastReadAt, inFlight, scheduledRetries } = server.stats;
    const stalledMs = Date.now() - lastReadAt;
    const limit = server.options.blockMs + server.options.watchdogMs + timeoutMs;
    if (lastReadAt > 0 && stalledMs > limit) {
      return down('reader-stalled', `reader loop has not returned from a read for ${stalledMs} ms`, { inFlight });
    }
    const streams: Record<string, StreamState> = {};
    if (options.maxPending !== undefined || options.maxLag !== undefined) {
      const group = server.options.group;
      // All streams at once (one round trip, pipelined by ioredis), the whole bounded by timeoutMs.
      const rows = server.streams.map(stream =>
        (commands.xinfo('GROUPS', stream) as Promise<unknown[][]>).then(
          r => ({ stream, groups: parseGroups(r) }),
          (err: unknown) => ({ stream, err }),
        ),
      );
      let results: Array<{ stream: string; groups?: GroupInfo[]; err?: unknown }>;
      try {
        results = await withinMs(Promise.all(rows), timeoutMs, `Redis did not answer XINFO GROUPS within ${timeoutMs} ms`);
      } catch (err) {
        const { reason, message } = describeDown(err, 'XINFO GROUPS failed');
        return down(reason, message);
      }
      for (const { stream, groups, err } of results) {
        if (err !== undefined) {
          const { reason, message } = describeDown(err, `XINFO GROUPS ${stream} failed`, stream);
          return down(reason, message, { streams });
        }
        const mine = groups!.find(g => g.name === group);
        if (!mine) {
          return down('group-missing', `${stream}: consumer group "${group}" does not exist (deleted?); the reader recreates it`, { streams });
        }
        streams[stream] = { pending: mine.pending, lag: mine.lag };
      }
      for (const [stream, { pending, lag }] of Object.entries(streams)) {
        if (options.maxPending !== undefined && pending > options.maxPending) {
          return down('max-pending', `${stream}: ${pending} pending > maxPending ${options.maxPending}`, { streams });
        }
        if (options.maxLag !== undefined && lag !== null && lag > options.maxLag) {
          return down('max-lag', `${stream}: lag ${lag} > maxLag ${options.maxLag}`, { streams });
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
