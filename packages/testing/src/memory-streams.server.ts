import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import {
  InvalidOptionsError,
  RedisStreamsStatus,
  type RedisStreamsEvents,
  type RedisStreamsServerOptions,
  type RedisStreamsServerSettings,
} from '@nestream/transport';
import {
  Attempt,
  buildRoutes,
  decide,
  describeError,
  installErrorCapture,
  NO_INSTRUMENTATION,
  ProcessingHooks,
  ReplyWriter,
  resolveServerOptions,
  StreamKeys,
  streamEntry,
  type AttemptResult,
  type Decision,
  type ProcessingHookHost,
  type ResolvedServerOptions,
  type Route,
  type StreamEntry,
} from '@nestream/transport/internal';
import type { BrokerConsumer, MemoryBroker } from './memory-broker.js';
import { MemoryRateLimits } from './memory-rate-limits.js';

/**
 * The redelivery check. `always`: every event's first delivery is run, then its outcome dropped (as if the
 * consumer died before its ack) and the entry delivered again, to another consumer. `crash`: the same, but the
 * second delivery starts while the first call is still running (a consumer that stalled or died mid-handler,
 * its entry claimed by another), so check-then-act handlers are caught too. Events only.
 */
export type RedeliverMode = 'never' | 'always' | 'crash';

/** `RedisStreamsServer`'s options (a connection, if given, is checked and not used) plus the bed's own. */
export type MemoryStreamsServerOptions = (RedisStreamsServerSettings | RedisStreamsServerOptions) & {
  /** Deliver every event at least twice: see RedeliverMode. @default 'never' */
  redeliver?: RedeliverMode;
};

const REDELIVER_MODES: RedeliverMode[] = ['never', 'always', 'crash'];

/**
 * The in-memory strategy a test bed's `server()` returns, for `NestFactory.createMicroservice` and
 * `app.connectMicroservice`. Options and handlers are checked by the transport's own code; each attempt is
 * the transport's `Attempt`, each outcome decided by its `decide()`; retries wait on the bed's virtual clock.
 */
export class MemoryStreamsServer
  extends Server<{ [K in keyof RedisStreamsEvents]: RedisStreamsEvents[K] }, RedisStreamsStatus>
  implements CustomTransportStrategy, BrokerConsumer
{
  readonly options: ResolvedServerOptions;
  readonly redeliver: RedeliverMode;
  protected override readonly logger = new Logger('MemoryStreamsServer');
  private readonly keys: StreamKeys;
  private readonly events = new EventEmitter();
  private routes = new Map<string, Route>();
  private attempt?: Attempt;
  private replies?: ReplyWriter;
  /** The "other consumer" a redelivery check hands entries to. */
  private other?: Attempt;
  private rateLimits?: MemoryRateLimits;
  private listening = false;
  private busySlots = 0;
  private readonly running = new Set<Promise<unknown>>();
  /** Retries that fell due, waiting for a slot (run before new entries, as the real dispatcher does). */
  private readonly due: Array<{ route: Route; entries: StreamEntry[] }> = [];
  /** Ordered streams whose current entry is running or waiting for its retry. */
  private readonly orderedBusy = new Set<string>();
  private readonly cancelRetries = new Set<() => void>();
  /** Handler calls per pattern. */
  readonly calls = new Map<string, number>();

  constructor(
    private readonly broker: MemoryBroker,
    options: MemoryStreamsServerOptions,
  ) {
    super();
    const { redeliver = 'never', ...settings } = (options ?? {}) as MemoryStreamsServerOptions;
    if (!REDELIVER_MODES.includes(redeliver)) {
      throw new InvalidOptionsError('redeliver', `must be one of ${REDELIVER_MODES.map(m => `'${m}'`).join(', ')}, got ${JSON.stringify(redeliver)}`);
    }
    this.redeliver = redeliver;
    this.options = resolveServerOptions(settings as RedisStreamsServerOptions);
    this.keys = new StreamKeys(this.options.keyPrefix);
    this.transportId = this.options.transportId;
    (this as { propagatesEventHandlerErrors?: boolean }).propagatesEventHandlerErrors = true;
    this.events.on('error', () => undefined);
    installErrorCapture();
  }

  listen(callback: (err?: unknown) => void): void {
    try {
      const routes = buildRoutes(this.messageHandlers, this.options, this.keys);
      for (const route of routes.values()) {
        if (route.partition && route.partition.index === 0) {
          this.broker.recordPartitions(this.keys.partitionCount(route.pattern), route.pattern, route.partition.count);
        }
      }
      const counted = new Map<MessageHandler, MessageHandler>();
      for (const [stream, route] of routes) {
        let handler = counted.get(route.handler);
        if (!handler) counted.set(route.handler, (handler = this.counting(route.pattern, route.handler)));
        this.routes.set(stream, { ...route, handler });
        this.broker.stream(stream).createGroup(this.options.group, this.options.startId);
      }
      const replies = (this.replies = new ReplyWriter(async (key, fields) => void this.broker.xadd(key, fields)));
      const clock = this.broker.clock;
      const onReplyError = (entry: StreamEntry, err: unknown) => this.logger.error(`Request ${entry.id} of ${entry.stream}: reply not written: ${String(err)}`);
      // Nest 12's processing hooks, as the real server calls them (read from this server on each run).
      const hooks = new ProcessingHooks(this as unknown as ProcessingHookHost, err => this.logger.error(`onProcessingEndHook threw: ${String(err)}`));
      const rateLimits = (this.rateLimits = new MemoryRateLimits(this.broker));
      this.attempt = new Attempt({ options: this.options, replies, instrumentation: NO_INSTRUMENTATION, hooks, onReplyError, clock, rateLimits });
      const otherOptions = { ...this.options, consumer: `${this.options.consumer}~redelivered` };
      this.other = new Attempt({ options: otherOptions, replies, instrumentation: NO_INSTRUMENTATION, hooks, onReplyError, clock, rateLimits });
      this.listening = true;
      this.broker.consumers.add(this);
      this._status$.next(RedisStreamsStatus.CONNECTED);
      callback();
      this.pump();
    } catch (err) {
      callback(err);
    }
  }

  async close(): Promise<void> {
    this.listening = false;
    this.broker.consumers.delete(this);
    for (const cancel of this.cancelRetries) cancel();
    this.cancelRetries.clear();
    this.rateLimits?.stop();
    this.due.length = 0;
    await Promise.allSettled([...this.running]);
    this._status$.next(RedisStreamsStatus.DISCONNECTED);
  }

  on<K extends keyof RedisStreamsEvents>(event: K, callback: RedisStreamsEvents[K]): this {
    this.events.on(event, callback as (...args: unknown[]) => void);
    return this;
  }

  unwrap<T>(): T {
    throw new Error('MemoryStreamsServer has no Redis connection to unwrap');
  }

  /** The stream keys this server reads. */
  get streams(): string[] {
    return [...this.routes.keys()];
  }

  inFlight(): Promise<unknown>[] {
    return [...this.running];
  }

  wake(stream: string): void {
    if (this.routes.has(stream)) this.pump();
  }

  /** Starts what may start: due retries first, then new entries, within `concurrency`. */
  private pump(): void {
    if (!this.listening) return;
    const o = this.options;
    while (this.due.length > 0 && this.busySlots < o.concurrency) {
      const next = this.due.shift()!;
      this.start(next.route, next.entries);
    }
    for (const route of this.routes.values()) {
      const free = o.concurrency - this.busySlots;
      if (free <= 0) return;
      const stream = this.broker.stream(route.stream);
      if (route.ordered) {
        if (this.orderedBusy.has(route.stream)) continue;
        const [read] = stream.readNew(o.group, o.consumer, 1);
        if (!read) continue;
        this.orderedBusy.add(route.stream);
        this.start(route, [streamEntry(route.stream, read.id, read.fields, 1)]);
      } else if (route.batch) {
        const read = stream.readNew(o.group, o.consumer, o.readBatchSize);
        if (read.length > 0) this.start(route, read.map(e => streamEntry(route.stream, e.id, e.fields, 1)));
      } else {
        for (const e of stream.readNew(o.group, o.consumer, Math.min(free, o.readBatchSize))) {
          this.start(route, [streamEntry(route.stream, e.id, e.fields, 1)]);
        }
      }
    }
  }

  private start(route: Route, entries: StreamEntry[]): void {
    this.busySlots++;
    this.broker.activity++;
    const run = this.run(route, entries)
      .catch(err => this.logger.error(`Bug in the test bed while running ${route.stream}: ${String(err)}`))
      .finally(() => {
        this.busySlots--;
        this.running.delete(run);
        this.broker.activity++;
        this.pump();
      });
    this.running.add(run);
  }

  private async run(route: Route, entries: StreamEntry[]): Promise<void> {
    const check = this.redeliver !== 'never' && route.isEvent && entries.every(e => e.deliveryCount === 1);
    if (!check) return this.settle(route, entries, await this.call(this.attempt!, route, entries));
    // The redelivery check: this delivery's outcome is dropped, as if its consumer died before settling it.
    const first = this.call(this.attempt!, route, entries);
    if (this.redeliver === 'always') await first.catch(() => undefined);
    const again = this.claim(route, entries);
    if (again.length > 0) await this.settle(route, again, await this.call(this.other!, route, again));
    await first.catch(() => undefined);
  }

  private async call(attempt: Attempt, route: Route, entries: StreamEntry[]): Promise<AttemptResult[]> {
    return route.batch ? attempt.runBatch(route, entries) : [await attempt.run(route, entries[0])];
  }

  /** XCLAIM of each entry: a new delivery, counted. */
  private claim(route: Route, entries: StreamEntry[]): StreamEntry[] {
    const stream = this.broker.stream(route.stream);
    const claimed: StreamEntry[] = [];
    for (const e of entries) {
      const pending = stream.claim(this.options.group, e.id, this.options.consumer);
      if (pending) claimed.push(streamEntry(e.stream, e.id, stream.get(e.id)?.fields ?? null, pending.deliveryCount));
    }
    return claimed;
  }

  /** The failure policy's decision for each entry, carried out as the settler does. */
  private async settle(route: Route, entries: StreamEntry[], results: AttemptResult[]): Promise<void> {
    await Promise.all(
      entries.map(async (entry, i) => {
        if (!results[i]) return;
        const decision = decide({ route, attempt: entry.deliveryCount, result: results[i], deadline: entry.message?.deadline, now: this.broker.clock.now() });
        await this.apply(route, entry, decision);
      }),
    );
  }

  private async apply(route: Route, entry: StreamEntry, decision: Decision): Promise<void> {
    const stream = this.broker.stream(entry.stream);
    const { group } = this.options;
    // Stopped while waiting for its rate limit: it stays pending, unrun.
    if (decision.kind === 'leave') return;
    if (decision.kind === 'ack') {
      stream.ack(group, entry.id);
      this.broker.activity++;
      if (decision.skipped === 'expired') this.logger.warn(`Skipped request ${entry.id} of ${entry.stream}: its caller timed out before it was handled`);
      this.orderedDone(route);
      return;
    }
    if (!(decision.kind === 'deadLetter' && decision.beforeHandler)) this.reportFailure(route, entry, decision);
    if (decision.kind === 'retry') {
      const cancel = this.broker.clock.setTimeout(() => {
        this.cancelRetries.delete(cancel);
        const again = this.claim(route, [entry]);
        if (again.length === 0) return;
        this.due.push({ route, entries: again });
        this.pump();
      }, decision.delayMs);
      this.cancelRetries.add(cancel);
      return;
    }
    if (!route.isEvent && entry.message) {
      await this.replies!.sendError(entry.message, decision.wireError).catch(() => undefined);
    }
    const o = this.options;
    const deadLetterStream = route.deadLetterKey ?? false;
    const error = describeError(decision.error);
    this.broker.deadLetter(deadLetterStream, {
      stream: entry.stream, id: entry.id, group, consumer: o.consumer, attempts: entry.deliveryCount, reason: decision.reason, error,
    });
    this.logger.warn(`Dead-lettered entry ${entry.id} of ${entry.stream} to ${deadLetterStream} (${decision.reason}: ${error.name}: ${error.message})`);
    this.events.emit('deadLettered', { stream: entry.stream, id: entry.id, deadLetterStream, reason: decision.reason, attempts: entry.deliveryCount, error });
    this.orderedDone(route);
  }

  private orderedDone(route: Route): void {
    if (route.ordered && this.orderedBusy.delete(route.stream)) this.pump();
  }

  private reportFailure(route: Route, entry: StreamEntry, decision: Exclude<Decision, { kind: 'ack' | 'leave' }>): void {
    const { name, message } = describeError(decision.error);
    const line = `Handler for ${entry.stream} failed on entry ${entry.id} (attempt ${entry.deliveryCount}/${route.retry.maxAttempts}): ${name}: ${message}`;
    if (decision.kind === 'retry') this.logger.warn(`${line} -> retry in ${decision.delayMs} ms`);
    else this.logger.error(`${line} -> dead letter (${decision.reason})`);
    this.events.emit('failed', {
      stream: entry.stream, id: entry.id, attempt: entry.deliveryCount, error: decision.error,
      retryAt: decision.kind === 'retry' ? this.broker.clock.now() + decision.delayMs : undefined,
    });
  }

  /** The handler, counting its calls per pattern (what `bed.calls(pattern)` reads). */
  private counting(pattern: string, handler: MessageHandler): MessageHandler {
    const calls = this.calls;
    const wrapped = ((data: unknown, ctx: unknown) => {
      calls.set(pattern, (calls.get(pattern) ?? 0) + 1);
      return handler(data, ctx);
    }) as MessageHandler;
    return Object.assign(wrapped, { isEventHandler: handler.isEventHandler, extras: handler.extras, next: handler.next });
  }
}
