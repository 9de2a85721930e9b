import { isCluster, type RedisClient } from '../redis/redis-client.js';
import { createRedis, quitOrDisconnect } from '../redis/create-redis.js';
import { resolveAdminOptions, type ResolvedAdminOptions, type StreamsAdminOptions } from './admin-options.js';
import { DeadLetters } from './dead-letters.js';
import { createGroup, resetGroup, type CreateGroupOptions, type GroupMoveResult, type ResetGroupOptions } from './groups.js';
import { fieldsContain, pageNewestFirst, resolveBrowse, toStreamEntry, type BrowseOptions, type EntryPage, type StreamEntry } from './browse.js';
import { readPendingList, type PendingList, type PendingListOptions } from './pending-list.js';
import { pruneConsumers, type PruneConsumersOptions, type PruneConsumersResult } from './prune-consumers.js';
import { requireStream } from './stream-info.js';
import { readStatus, type StreamsStatus } from './status.js';
import { cancelScheduledEntry, countScheduled, listScheduled, type ScheduledList } from './scheduled.js';
import { tail, type TailEntry, type TailOptions } from './tail.js';

/**
 * Inspecting and operating a transport's streams: what `nestream` (the CLI) runs, and what an admin
 * endpoint of your own can call. Streams are named as the transport's patterns (`keyPrefix` is added).
 *
 * ```ts
 * const admin = new StreamsAdmin({ connection: process.env.REDIS_URL });
 * const { streams } = await admin.status();
 * await admin.deadLetters.redrive('orders.created', { all: true, reason: 'max-attempts' });
 * await admin.close();
 * ```
 */
export class StreamsAdmin {
  /** List, show, redrive and purge dead letters. */
  readonly deadLetters: DeadLetters;
  private readonly options: ResolvedAdminOptions;
  private readonly redis: RedisClient;
  private lastError: Error | undefined;

  constructor(options: StreamsAdminOptions = {}) {
    this.options = resolveAdminOptions(options);
    this.redis = createRedis(this.options.connection, 'admin', { lazyConnect: true, ...this.options.redisOptions });
    // Errors reach the caller through the rejected command; without a listener ioredis would also log them.
    this.redis.on('error', (err: Error) => (this.lastError = err));
    this.deadLetters = new DeadLetters(this.redis, this.options);
  }

  /**
   * Connects now (commands connect on first use anyway). Rejects with the reason the connection failed
   * (`connect ECONNREFUSED ...`, `WRONGPASS ...`), not ioredis's bare "Connection is closed".
   */
  async connect(): Promise<void> {
    try {
      if (this.redis.status === 'wait') await this.redis.connect();
      else await this.redis.ping();
    } catch (err) {
      throw this.lastError ?? err;
    }
  }

  /**
   * Whether a standalone connection reached one node of a Redis Cluster (`INFO cluster` answers
   * `cluster_enabled:1`): that node holds only its own slots' streams, so `status()` would show part of
   * them and commands on other slots' keys fail with MOVED. Connect with `{ type: 'cluster', nodes }` instead.
   * False on a cluster connection, and when the user may not run INFO (NOPERM).
   */
  async isLoneClusterNode(): Promise<boolean> {
    if (isCluster(this.redis)) return false;
    let info: string;
    try {
      info = await this.redis.info('cluster');
    } catch (err) {
      if (/^NOPERM/.test((err as Error).message)) return false;
      throw err;
    }
    return /^cluster_enabled:1\s*$/m.test(info);
  }

  /** Streams (all under the key prefix, or the named ones), their groups, consumers and dead-letter streams. */
  status(streams?: string[]): Promise<StreamsStatus> {
    return readStatus(this.redis, this.options, streams);
  }

  /** A page of a stream's entries, newest first, decoded; `text` filters on field values (bounded by `scanLimit`). */
  async entries(stream: string, opts: BrowseOptions = {}): Promise<EntryPage<StreamEntry>> {
    const browse = resolveBrowse(opts);
    const key = this.key(stream);
    await requireStream(this.redis, key, stream);
    const text = browse.text;
    return pageNewestFirst(this.redis, key, browse, (id, flat) => (text === undefined || fieldsContain(flat, text) ? toStreamEntry(id, flat) : null));
  }

  /** A page of a group's pending entries, oldest first (XPENDING with COUNT), and how many there are in all. */
  pending(stream: string, group: string, opts: PendingListOptions = {}): Promise<PendingList> {
    return readPendingList(this.redis, this.key(stream), stream, group, opts);
  }

  /** Removes a group's idle consumers that have no pending entries (never one that has). */
  pruneConsumers(stream: string, group: string, options: PruneConsumersOptions): Promise<PruneConsumersResult> {
    return pruneConsumers(this.redis, this.options, stream, group, options);
  }

  /**
   * Moves a group's position (`XGROUP SETID`): back to run history again (`{ to: new Date(Date.now() - 2 * 3600_000) }`),
   * or forward to skip it. Entries at `to` or later are delivered at the group's next reads; pending entries stay
   * pending. On a partitioned pattern every partition moves. `dryRun` counts what would be delivered again or
   * skipped; `liveConsumers` says who reads from the new position at once.
   */
  resetGroup(stream: string, group: string, options: ResetGroupOptions): Promise<GroupMoveResult> {
    return resetGroup(this.redis, this.options, stream, group, options);
  }

  /** Creates a consumer group starting at a point in history (`from`, default `'end'`); every partition of a partitioned pattern. */
  createGroup(stream: string, group: string, options?: CreateGroupOptions): Promise<GroupMoveResult> {
    return createGroup(this.redis, this.options, stream, group, options);
  }

  /**
   * Delayed emits of a stream (every partition of a partitioned pattern) waiting for their time, due soonest
   * first: `limit` of them (default 50) after skipping the `offset` soonest (default 0), to page through.
   */
  scheduled(stream: string, options: { limit?: number; offset?: number } = {}): Promise<ScheduledList> {
    return listScheduled(this.redis, this.options, stream, options.limit ?? 50, options.offset ?? 0);
  }

  /**
   * How many delayed emits wait for each of the streams (a partition counts on its own), by stream name; null
   * for a stream whose schedule the ACL user may not read.
   */
  scheduledCounts(streams: string[]): Promise<Map<string, number | null>> {
    return countScheduled(this.redis, this.options, streams);
  }

  /** Cancels a delayed emit by its schedule id; true if it was waiting, false if it entered its stream or was cancelled. */
  cancelScheduled(stream: string, id: string): Promise<boolean> {
    return cancelScheduledEntry(this.redis, this.options, stream, id);
  }

  /** Follows new entries of the streams, decoded, without a consumer group. Ends when `signal` aborts. */
  tail(streams: string[], options?: TailOptions): AsyncGenerator<TailEntry> {
    return tail(this.redis, this.options, streams, options);
  }

  /** The Redis key of a stream name. */
  key(stream: string): string {
    return this.options.keyPrefix + stream;
  }

  /** The dead-letter stream key of a stream name. */
  deadLetterKey(stream: string): string {
    return this.options.deadLetterKey(this.key(stream));
  }

  /** Closes the connection: QUIT when it is up, else at once (a server that never answered gets no QUIT to ignore). */
  async close(): Promise<void> {
    if (this.redis.status !== 'ready') {
      this.redis.disconnect();
      return;
    }
    await quitOrDisconnect(this.redis);
  }
}
