import { Command, type Redis } from 'ioredis';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedServerOptions } from '../options.js';
import type { Dispatcher } from './dispatcher.js';
import { streamEntry, type StreamEntry } from './stream-entry.js';
import type { Leases } from './leases.js';
import type { Slots } from './slots.js';
import { isNoGroup, type XPendingRow } from '../redis/replies.js';
import type { SizeGuard } from './size-guard.js';
import type { Utf8Guard } from './utf8-guard.js';

type XReadGroupReply = Array<[stream: string, entries: Array<[id: string, fields: string[] | null]>]> | null;

class WatchdogTimeout extends Error {
  override readonly name = 'WatchdogTimeout';
}

const ERROR_BACKOFF_MIN_MS = 100;
const ERROR_BACKOFF_MAX_MS = 5000;

export interface ReadLoopDeps {
  /** Dedicated connection: a blocked XREADGROUP holds it. */
  blocking: Redis;
  options: ResolvedServerOptions;
  streams: string[];
  slots: Slots;
  leases: Leases;
  dispatcher: Dispatcher;
  logger: LoggerService;
  /** Creates the group on every stream (MKSTREAM; BUSYGROUP is fine). */
  ensureGroups: () => Promise<void>;
  onError: (err: unknown) => void;
  /** Dead-letters entries whose bytes are not valid UTF-8 instead of handing them over altered. */
  utf8Guard: Utf8Guard;
  /** With maxPayloadBytes: reads the entries waiting without taking oversized ones out of Redis. */
  sizeGuard?: SizeGuard;
}

/**
 * The reader: first takes back this consumer's own pending entries (left by a previous run under the
 * same name, or by a read whose reply was lost in a reconnect), then reads new entries with
 * XREADGROUP ... BLOCK, never more than the free slots. A watchdog recycles the connection of a read
 * that does not come back in blockMs + watchdogMs (ioredis can leave a blocking command hanging after
 * a reconnect).
 */
export class ReadLoop {
  private running = false;
  private loop?: Promise<void>;
  private roundRobin = 0;
  private overflow: StreamEntry[] = [];
  private readonly newIds: string[];
  private groupsReady = false;
  private recovered = false;
  private wake?: () => void;
  /** The XREADGROUP in flight and when it was sent, for the watchdog (one interval timer, not one per read). */
  private reading?: Command;
  private readSentAt = 0;
  private watchdog?: NodeJS.Timeout;
  /** Last time a read returned (or failed): the health check's sign that the loop is alive. */
  lastReadAt = 0;

  constructor(private readonly deps: ReadLoopDeps) {
    this.newIds = deps.streams.map(() => '>');
  }

  start(): void {
    this.running = true;
    const { blockMs, watchdogMs } = this.deps.options;
    this.watchdog = setInterval(() => this.checkRead(blockMs + watchdogMs), Math.max(25, Math.min(1000, watchdogMs / 4)));
    this.watchdog.unref();
    this.loop = this.run();
  }

  /** After a reconnect, read our own pending list again before new entries. */
  markReconnected(): void {
    this.recovered = false;
  }

  /** Stops reading. A read blocked in Redis is cut off by closing the dedicated connection. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.watchdog);
    this.wake?.();
    this.deps.slots.release(0); // wake a wait for free slots
    this.deps.blocking.disconnect();
    await this.loop;
    // Read but never started: they stay pending for whoever comes next.
    for (const e of this.overflow.splice(0)) this.deps.leases.delete(e);
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
          await this.recoverOwnPending();
          this.recovered = true;
        }
        if (this.deps.slots.free === 0) await this.deps.slots.whenFree();
        // Handlers finishing in the same tick free their slots together: one read for all of them,
        // instead of a round trip per freed slot.
        await new Promise(setImmediate);
        if (!this.running) break;
        if (this.overflow.length > 0) {
          this.dispatchWithinSlots(this.overflow.splice(0));
          continue;
        }
        // Slots are not reserved across the blocking read: retries and claims due meanwhile may take them,
        // and what the reply holds beyond the slots still free waits in the overflow.
        const entries = await this.read(Math.min(this.deps.slots.free, this.deps.options.readBatchSize));
        this.lastReadAt = Date.now();
        this.dispatchWithinSlots(await this.deps.utf8Guard.screen(entries));
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
        if (err instanceof WatchdogTimeout) {
          this.deps.logger.warn?.(err.message);
          this.recovered = false;
          this.deps.blocking.disconnect(true);
        } else {
          this.deps.onError(err);
        }
        failures++;
        await this.pause(Math.min(ERROR_BACKOFF_MAX_MS, ERROR_BACKOFF_MIN_MS * 2 ** Math.min(failures, 10)));
      }
    }
  }

  /** Dispatches as many entries as there are free slots; the rest wait, in order, in the overflow. */
  private dispatchWithinSlots(entries: StreamEntry[]): void {
    const n = this.deps.slots.take(entries.length);
    this.deps.dispatcher.dispatchMany(n === entries.length ? entries : entries.slice(0, n));
    for (let i = n; i < entries.length; i++) this.overflow.push(entries[i]);
  }

  /**
   * XREADGROUP of new entries over every stream. COUNT applies per stream, so `slots` are spread over the
   * streams; with fewer free slots than streams each stream gets COUNT 1 and the reply may hold up to
   * (streams - 1) entries more than the free slots: those wait in `overflow`, not running, until slots free.
   * (Reading only some of the streams instead would block on them while others have entries.)
   */
  private async read(slots: number): Promise<StreamEntry[]> {
    const { options, streams, blocking } = this.deps;
    const count = Math.max(1, Math.floor(slots / streams.length));
    const { sizeGuard } = this.deps;
    let reply: XReadGroupReply = sizeGuard ? await sizeGuard.take(count) : null;
    if (!reply) {
      const command = new Command(
        'xreadgroup',
        ['GROUP', options.group, options.consumer, 'COUNT', sizeGuard?.blockingCount ?? count, 'BLOCK', options.blockMs, 'STREAMS', ...streams, ...this.newIds],
        { replyEncoding: 'utf8' },
      );
      this.reading = command;
      this.readSentAt = Date.now();
      try {
        reply = (await blocking.sendCommand(command)) as XReadGroupReply;
      } finally {
        this.reading = undefined;
      }
    }
    const entries: StreamEntry[] = [];
    if (!reply) return entries;
    const now = Date.now();
    // Rotate which stream's entries come first, so an overflow does not always favour the same stream.
    const start = this.roundRobin++ % reply.length;
    for (let i = 0; i < reply.length; i++) {
      const [stream, list] = reply[(start + i) % reply.length];
      for (const [id, fields] of list) {
        const entry = streamEntry(stream, id, fields, 1);
        this.deps.leases.add(entry, now);
        entries.push(entry);
      }
    }
    return entries;
  }

  /** Fails a read that has not come back in blockMs + watchdogMs: the loop then recycles the connection. */
  private checkRead(limit: number): void {
    const command = this.reading;
    if (!command || Date.now() - this.readSentAt < limit) return;
    this.reading = undefined;
    // A reply that still arrives later finds the command settled and is dropped: those entries stay
    // pending under our name and come back with the own-pending recovery after the reconnect.
    command.reject(new WatchdogTimeout(`XREADGROUP did not return within ${limit} ms (blockMs + watchdogMs); recycling the reader connection`));
  }

  /**
   * Takes back this consumer's own pending entries, oldest first: XPENDING (which gives their delivery
   * counts) then XCLAIM (counts one more delivery, and drops ids whose entries were trimmed).
   * Entries this process already holds are skipped.
   */
  private async recoverOwnPending(): Promise<void> {
    // On the reader's own connection: it is idle between reads, and after a reconnect it is the fresh one.
    const { blocking: redis, options, streams, slots, leases, dispatcher } = this.deps;
    for (const stream of streams) {
      let start = '-';
      while (this.running) {
        await slots.whenFree();
        const reserved = slots.take(options.readBatchSize);
        let used = 0;
        try {
          const rows = (await redis.xpending(stream, options.group, start, '+', reserved, options.consumer)) as XPendingRow[];
          if (rows.length === 0) break;
          start = `(${rows[rows.length - 1][0]}`;
          const held = leases.heldIds(stream);
          const mine = rows.filter(([id]) => !held.has(id));
          if (mine.length === 0) continue;
          const counts = new Map(mine.map(([id, , , n]) => [id, Number(n)]));
          const claimed = (await redis.xclaim(stream, options.group, options.consumer, 0, ...counts.keys())) as Array<[string, string[] | null]>;
          const now = Date.now();
          for (const [id, fields] of claimed) {
            if (!fields) continue;
            const entry = streamEntry(stream, id, fields, (counts.get(id) ?? 0) + 1);
            leases.add(entry, now);
            used++;
            dispatcher.dispatch(entry);
          }
        } finally {
          slots.release(reserved - used);
        }
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
