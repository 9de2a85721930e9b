import { Command } from 'ioredis';
import type { RedisClient } from '../redis/redis-client.js';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedServerOptions } from '../options/server.js';
import { ReadTimeoutError, ReadWatchdog } from '../redis/read-watchdog.js';
import { isNoGroup } from '../redis/replies.js';
import type { Dispatcher } from './dispatcher.js';
import type { Leases } from './leases.js';
import type { PendingIntake } from './pending-intake.js';
import type { StreamOwnership } from './partition-ownership.js';
import { movedOversized, type SizeGuard, type XReadGroupReply } from './size-guard.js';
import type { UnreadTrims } from './unread-trims.js';
import type { Utf8Guard } from './utf8-guard.js';
import { streamEntry, type StreamEntry } from './stream-entry.js';
import { doublingDelay } from './backoff.js';
import { WakeablePause } from '../wakeable-pause.js';

// After a failed read: 100 ms, doubling, at most 5 s between tries (a lasting error is not a hot loop).
const ERROR_BACKOFF_MIN_MS = 100;
const ERROR_BACKOFF_MAX_MS = 5000;
// While reads come back full (a backlog), a producer's maxLen may be trimming entries the group has not read:
// count them before reading across the gap, at most once a second (one script call per stream, not per entry).
const BACKLOG_TRIMS_CHECK_MS = 1000;

export interface ReadLoopDeps {
  /** The `reader` connection, for the blocking XREADGROUP (a blocked read holds its connection) and, with the size guard, the script read queued right behind it. */
  reader: RedisClient;
  options: Pick<ResolvedServerOptions, 'group' | 'consumer' | 'blockMs' | 'watchdogMs' | 'readBatchSize'>;
  streams: string[];
  leases: Leases;
  dispatcher: Dispatcher;
  intake: PendingIntake;
  /** Creates the group on every stream (MKSTREAM; BUSYGROUP is fine). */
  ensureGroups: () => Promise<void>;
  logger: LoggerService;
  onError: (err: unknown) => void;
  /** Dead-letters entries whose bytes are not valid UTF-8 instead of handing them over altered. */
  utf8Guard: Utf8Guard;
  /** With boundedReads: reads the entries waiting without taking oversized ones out of Redis. */
  sizeGuard?: SizeGuard;
  /** With ordered partitions: which of `streams` this consumer owns now; only those are read and recovered. */
  ownership?: StreamOwnership;
  /** Counts entries trimmed before the group read them: run before the first read, when a gap is still ahead. */
  unreadTrims?: UnreadTrims;
}

/**
 * The reader: reads new entries with XREADGROUP ... BLOCK, never more than the dispatcher has room for.
 * First, and after every reconnect, it has the pending intake take back this consumer's own pending
 * entries (left by a previous run under the same name, or by a read whose reply was lost). A watchdog
 * fails a read that does not come back in blockMs + watchdogMs, and the connection is recycled (ioredis
 * can leave a blocking command hanging after a reconnect).
 */
export class ReadLoop {
  private running = false;
  private loop?: Promise<void>;
  private roundRobin = 0;
  private readonly newIds: string[];
  private groupsReady = false;
  private recovered = false;
  /** The pause after an error, cut short by stop(). */
  private readonly pausing = new WakeablePause();
  private readonly watchdog: ReadWatchdog;
  /** Last time a read returned (or failed): the health check's sign that the loop is alive. */
  lastReadAt = 0;
  /** The last read returned as many entries as it asked for of some stream: more are waiting. */
  private lastReadFull = false;
  /** With the size guard: its last script read found nothing waiting, so the next read blocks (see readReply). */
  private nothingWaiting = false;
  private trimsCheckedAt = 0;

  constructor(private readonly deps: ReadLoopDeps) {
    this.newIds = deps.streams.map(() => '>');
    this.watchdog = new ReadWatchdog(deps.options.blockMs + deps.options.watchdogMs, 'XREADGROUP (blockMs + watchdogMs)');
  }

  start(): void {
    this.running = true;
    this.watchdog.start();
    this.loop = this.run();
  }

  /** After a reconnect, take back our own pending entries again before new ones. */
  markReconnected(): void {
    this.recovered = false;
  }

  /** Stops reading. A read blocked in Redis is cut off by closing the reader connection. */
  async stop(): Promise<void> {
    this.running = false;
    this.watchdog.stop();
    this.pausing.wake();
    this.deps.reader.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!this.groupsReady) {
          await this.deps.ensureGroups();
          this.groupsReady = true;
        }
        if (!this.recovered) {
          const { ownership } = this.deps;
          // Before reading across it: a gap left by trimming while we were away is still countable now.
          await this.deps.unreadTrims?.check(this.deps.streams);
          for (const stream of this.deps.streams) {
            if (!ownership || ownership.owns(stream)) await this.deps.intake.recoverOwn(stream, () => this.running);
          }
          this.recovered = true;
        }
        await this.deps.dispatcher.whenReadable();
        // Handlers finishing in the same tick free their slots together: one read for all of them,
        // instead of a round trip per freed slot.
        await new Promise(setImmediate);
        if (!this.running) break;
        const room = Math.min(this.deps.dispatcher.readable, this.deps.options.readBatchSize);
        if (room === 0) continue;
        if (this.lastReadFull && this.deps.unreadTrims && Date.now() - this.trimsCheckedAt >= BACKLOG_TRIMS_CHECK_MS) {
          this.trimsCheckedAt = Date.now();
          await this.deps.unreadTrims.check(this.deps.streams);
        }
        const entries = await this.read(room);
        this.lastReadAt = Date.now();
        this.deps.dispatcher.submit(await this.deps.utf8Guard.screen(entries));
        failures = 0;
      } catch (err) {
        this.lastReadAt = Date.now();
        if (!this.running) break;
        if (isNoGroup(err)) {
          // An operator deleted the stream or the group: recreate it and go on.
          this.deps.logger.warn?.(`Consumer group "${this.deps.options.group}" is gone (${(err as Error).message}); recreating it`);
          this.groupsReady = false;
          continue;
        }
        if (err instanceof ReadTimeoutError) {
          this.deps.logger.warn?.(err.message);
          this.recovered = false;
          this.deps.reader.disconnect(true);
        } else {
          this.deps.onError(err);
        }
        failures++;
        await this.pausing.sleep(doublingDelay(ERROR_BACKOFF_MIN_MS, ERROR_BACKOFF_MAX_MS, failures));
      }
    }
  }

  /**
   * XREADGROUP of new entries over every stream. COUNT applies per stream, so `room` is spread over the
   * streams; with less room than streams each stream gets COUNT 1 and the reply may hold up to
   * (streams - 1) entries more than the room: the dispatcher's backlog keeps them, in order.
   * (Reading only some of the streams instead would block on them while others have entries.)
   */
  private async read(room: number): Promise<StreamEntry[]> {
    const { ownership } = this.deps;
    if (!ownership) return this.readFrom(this.deps.streams, this.newIds, room);
    const streams = ownership.startRead(this.deps.streams);
    try {
      if (streams.length === 0) {
        // No partition of ours to read yet (or any more): wait for the ownership to change.
        await Promise.race([ownership.whenChanged(), this.pausing.sleep(this.deps.options.blockMs)]);
        return [];
      }
      return await this.readFrom(streams, streams === this.deps.streams ? this.newIds : streams.map(() => '>'), room);
    } finally {
      ownership.readDone(streams);
    }
  }

  /**
   * Without the size guard: one blocking XREADGROUP of `count` per stream. With it: the script takes what is
   * waiting; when it found nothing, the next read blocks for the next entry (COUNT 1 per stream) with the script
   * sent right behind it on the reader's connection: Redis runs it as soon as the blocking read returns, so an
   * entry that ends a wait and those that came with it take one round trip, not two, and the loop goes on
   * blocking that way until a script read finds entries waiting. Together they read no more than `count` per
   * stream, as one read would.
   */
  private async readReply(streams: string[], newIds: string[], count: number): Promise<XReadGroupReply> {
    const { sizeGuard } = this.deps;
    if (!sizeGuard) return this.blockingRead(streams, newIds, count);
    if (!this.nothingWaiting) {
      const waiting = await sizeGuard.take(count, streams).catch(err => this.retakeAfter(err));
      if (waiting) return waiting;
      this.nothingWaiting = true;
    }
    // The blocking read's entry counts against the room: the script behind it takes the rest of it, if any.
    const behind = count - sizeGuard.blockingCount;
    if (behind < 1) {
      const first = await this.blockingRead(streams, newIds, sizeGuard.blockingCount);
      this.nothingWaiting = false; // the next read asks the script what else is waiting
      return first;
    }
    const [first, following] = await Promise.all([
      this.blockingRead(streams, newIds, sizeGuard.blockingCount),
      sizeGuard.take(behind, streams, this.deps.reader),
    ]).catch(err => this.retakeAfter(err));
    this.nothingWaiting = following === null;
    return mergeReplies(streams, first, following);
  }

  /** XREADGROUP ... BLOCK on the reader connection, under the watchdog. */
  private blockingRead(streams: string[], newIds: string[], count: number): Promise<XReadGroupReply> {
    const { options, reader } = this.deps;
    const command = new Command(
      'xreadgroup',
      ['GROUP', options.group, options.consumer, 'COUNT', count, 'BLOCK', options.blockMs, 'STREAMS', ...streams, ...newIds],
      { replyEncoding: 'utf8' },
    );
    return this.watchdog.watch<XReadGroupReply>(command, c => reader.sendCommand(c));
  }

  /**
   * The size guard's script failed: it may have read entries (XREADGROUP ran) that this process never got,
   * pending for this consumer with nobody holding them. Taking back this consumer's own pending entries
   * before the next read gets them now, not after claim.minIdleMs.
   */
  private retakeAfter(err: unknown): never {
    this.recovered = false;
    throw err;
  }

  private async readFrom(streams: string[], newIds: string[], room: number): Promise<StreamEntry[]> {
    const count = Math.max(1, Math.floor(room / streams.length));
    const reply = await this.readReply(streams, newIds, count);
    const entries: StreamEntry[] = [];
    this.lastReadFull = false;
    if (!reply) return entries;
    const now = Date.now();
    // Rotate which stream's entries come first, so a backlog does not always favour the same stream.
    const start = this.roundRobin++ % reply.length;
    for (let i = 0; i < reply.length; i++) {
      const [stream, list] = reply[(start + i) % reply.length];
      if (list.length >= count) this.lastReadFull = true;
      for (const [id, fields, oversized] of list) {
        if (oversized !== undefined) {
          // Dead-lettered and acked by the size guard's script: not pending, so not held; only reported.
          entries.push(streamEntry(stream, id, fields, 1, movedOversized(oversized)));
          continue;
        }
        const entry = streamEntry(stream, id, fields, 1);
        this.deps.leases.hold(entry, now);
        entries.push(entry);
      }
    }
    return entries;
  }
}

/**
 * A blocking read's reply and the script read's that ran right behind it, one list per stream in `streams`
 * order: the blocking read's entry first (Redis ran it first: its id is the lower), then the script's.
 */
function mergeReplies(streams: string[], first: XReadGroupReply, following: XReadGroupReply): XReadGroupReply {
  if (!following || following.length === 0) return first;
  if (!first || first.length === 0) return following;
  const merged: NonNullable<XReadGroupReply> = [];
  for (const stream of streams) {
    const a = first.find(([s]) => s === stream)?.[1];
    const b = following.find(([s]) => s === stream)?.[1];
    if (a && b) merged.push([stream, [...a, ...b]]);
    else if (a || b) merged.push([stream, (a ?? b)!]);
  }
  return merged;
}
