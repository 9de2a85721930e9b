import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { Acker } from '../consumer/acker.js';
import { Attempt } from '../consumer/attempt.js';
import { ClaimLoop } from '../consumer/claim-loop.js';
import { Dispatcher } from '../consumer/dispatcher.js';
import { installErrorCapture } from '../consumer/error-capture.js';
import { buildRoutes } from './build-routes.js';
import { ProcessingHooks, type ProcessingHookHost } from '../consumer/processing-hooks.js';
import { brand } from '../brand.js';
import { UnreadTrims } from '../consumer/unread-trims.js';
import { GoneEntries } from '../consumer/gone-entries.js';
import { Leases } from '../consumer/leases.js';
import { LateCompletions } from '../consumer/late-completions.js';
import { PartitionLeaseTable } from '../consumer/partition-lease-table.js';
import { PartitionOwnership } from '../consumer/partition-ownership.js';
import { PendingIntake } from '../consumer/pending-intake.js';
import { ReadLoop } from '../consumer/read-loop.js';
import { Redelivery } from '../consumer/redelivery.js';
import { RedisRateLimits } from '../consumer/redis-rate-limits.js';
import { Retention, type RetentionDeps } from '../consumer/retention.js';
import { ScheduledMover } from '../consumer/scheduled-mover.js';
import { SizeGuard } from '../consumer/size-guard.js';
import { Utf8Guard } from '../consumer/utf8-guard.js';
import { appendReplyTo, ReplyWriter } from '../consumer/reply-writer.js';
import { deadLetterKeysOf, type Route } from '../consumer/route.js';
import { Settler } from '../consumer/settler.js';
import type { EmitEvent, RedisStreamsEvents } from '../events.js';
import { FailureRecord } from '../consumer/failure-record.js';
import { Slots } from '../consumer/slots.js';
import { PartitionError } from '../errors/partition.error.js';
import type { ResolvedRetention } from '../options/retention.js';
import { StreamKeys } from '../keys.js';
import { NO_INSTRUMENTATION, type ConsumerInstrumentation } from '../observability/instrumentation.js';
import { createConsumerInstrumentation } from '../observability/create-instrumentation.js';
import { resolveServerOptions, type RedisStreamsServerOptions, type ResolvedServerOptions } from '../options/server.js';
import { createRedis, quitOrDisconnect } from '../redis/create-redis.js';
import { readGroupsOf } from './read-groups.js';
import { checkKeyLayout } from './key-layout.js';
import { isBusyGroup, isCertificateError, isFatalRedisError, redisErrorMessage } from '../redis/replies.js';
import { checkConsumerPermissions, consumerPermissionScope, type PartitionPermissionScope } from '../redis/permissions.js';
import { recordPartitionCounts, type EventPatternPartitions } from './partition-counts.js';
import { settleWithin } from '../settle-within.js';
import { RedisStreamsStatus } from '../status.js';

interface Running {
  commands: RedisClient;
  /** One blocking reader per read group: all streams on one Redis, one group per slot on a cluster. */
  readers: RedisClient[];
  leases: Leases;
  acker: Acker;
  slots: Slots;
  dispatcher: Dispatcher;
  redelivery: Redelivery;
  settler: Settler;
  readLoops: ReadLoop[];
  claimLoop: ClaimLoop;
  /** Moves delayed emits into the event streams when due; undefined with `scheduler: false` or no event stream. */
  mover?: ScheduledMover;
  /** With ordered partitions: who reads and runs which partition. */
  ownership?: PartitionOwnership;
  /** The group's rate limits, where entries of rate-limited handlers wait for their turn. */
  rateLimits: RedisRateLimits;
  /** Stops the metrics gauges reading this server's streams. */
  unwatch: () => void;
}

// The same error from a loop is logged once per this much time (each is still emitted as an `error` event).
const REPEATED_ERROR_LOG_MS = 30_000;

/**
 * Nest transport strategy over Redis Streams consumer groups:
 * `NestFactory.createMicroservice(AppModule, { strategy: new RedisStreamsServer({ group: 'orders' }) })`.
 * Each handler's pattern is a stream; entries are acked only after the handler succeeded.
 */
export class RedisStreamsServer
  extends Server<{ [K in keyof RedisStreamsEvents]: RedisStreamsEvents[K] }, RedisStreamsStatus>
  implements CustomTransportStrategy
{
  static {
    brand(this, 'RedisStreamsServer');
  }

  readonly options: ResolvedServerOptions;
  protected override readonly logger = new Logger(RedisStreamsServer.name);
  private readonly keys: StreamKeys;
  private readonly events = new EventEmitter();
  private readonly processingHooks: ProcessingHooks;
  /** @ignore the commands connection's last error since it was last ready (read by the health indicator). */
  connectionError?: Error;
  private running?: Running;
  private closing?: Promise<void>;
  /** Metrics and tracing hooks (`metrics`, `tracing` options); NO_INSTRUMENTATION when both are off. */
  protected instrumentation: ConsumerInstrumentation = NO_INSTRUMENTATION;
  private lastErrorLog = { text: '', at: 0 };
  /** The @EventPatterns with their partition counts, as listen() found them. */
  private eventPatterns: EventPatternPartitions[] = [];
  /** Partitioned patterns whose own stream holds entries were warned about (once per listen()). */
  private warnedUnread = false;

  constructor(options: RedisStreamsServerOptions) {
    super();
    this.options = resolveServerOptions(options);
    this.keys = new StreamKeys(this.options.keyPrefix);
    this.transportId = this.options.transportId;
    // Handler failures are the transport's to settle (retry, dead letter): Nest 12 need not log them again.
    // Assigned, not declared, because NestJS 11's Server has no such member.
    (this as { propagatesEventHandlerErrors?: boolean }).propagatesEventHandlerErrors = true;
    // Nest 12's processing hooks, read from this server on each run (Nest 11 has none: handlers are called directly).
    this.processingHooks = new ProcessingHooks(this as unknown as ProcessingHookHost, err => this.reportError('onProcessingEndHook threw', err));
    // 'error' without a listener would throw: errors are always logged, listeners are optional.
    this.events.on('error', () => undefined);
    installErrorCapture();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const routes = buildRoutes(this.messageHandlers, this.options, this.keys);
      const streams = [...routes.keys()];
      this.eventPatterns = eventPatternsOf(routes);
      const o = this.options;
      // Loads prom-client / @opentelemetry/api when `metrics` / `tracing` is on (a missing one fails listen()).
      this.instrumentation = await createConsumerInstrumentation(o.group, o);
      // `commands` gets a socket timeout: a frozen socket is replaced instead of holding up acks and claims.
      checkKeyLayout(routes, this.keys, o);
      const readGroups = readGroupsOf([...routes.values()], o);
      const commands = createRedis(o.connection, 'commands', { socketTimeout: o.commandTimeoutMs });
      const readers = readGroups.map(() => createRedis(o.connection, 'reader'));
      this.watchConnection(commands, readers);
      const running = this.assemble(commands, readers, routes, readGroups);
      this.running = running;
      readers.forEach((reader, i) => reader.on('ready', () => running.readLoops[i].markReconnected()));

      if (streams.length > 0) {
        const failure = await this.firstContact(commands, streams, routes);
        if (failure && (isFatalRedisError(failure) || isCertificateError(failure) || failure instanceof PartitionError)) {
          // Wrong credentials, a missing permission, a refused certificate, another partition count: retrying cannot help.
          this.running = undefined;
          commands.disconnect();
          for (const reader of readers) reader.disconnect();
          callback(new Error(`RedisStreamsServer could not start: ${redisErrorMessage(failure)}`, { cause: failure }));
          return;
        }
        if (failure) {
          this.reportError('Could not create the consumer groups yet (Redis unreachable?); retrying in the background', failure);
        }
        for (const readLoop of running.readLoops) readLoop.start();
        running.claimLoop.start();
        running.mover?.start();
      } else {
        this.logger.warn?.('RedisStreamsServer has no @EventPattern or @MessagePattern handler: nothing to read');
      }
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Graceful: stop reading and claiming, wait for handlers in flight up to shutdownTimeoutMs, flush acks,
   * quit. What did not finish stays pending in Redis (nothing is acked twice, nothing lost). Returns within
   * shutdownTimeoutMs plus a short quit even while Redis is unreachable.
   */
  async close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  on<K extends keyof RedisStreamsEvents>(event: K, callback: RedisStreamsEvents[K]): this {
    this.events.on(event, callback as (...args: unknown[]) => void);
    return this;
  }

  /**
   * The ioredis connections: `commands` (XACK, XADD, claims) and `reader` (the blocking XREADGROUP); on a
   * cluster, `readers` has one reader per slot the streams hash to (`reader` is the first).
   */
  unwrap<T = { commands: RedisClient; reader: RedisClient; readers: RedisClient[] }>(): T {
    if (!this.running) throw new Error('Not initialized. Call listen() (or start the microservice) before unwrap().');
    const { commands, readers } = this.running;
    return { commands, reader: readers[0], readers } as T;
  }

  /**
   * For health checks and metrics: entries holding a slot (`inFlight`), waiting for a retry
   * (`scheduledRetries`), held in memory in all (`held`: those plus entries waiting for a slot), and when
   * the reader last came back from a read.
   */
  get stats(): { inFlight: number; scheduledRetries: number; held: number; lastReadAt: number } {
    const r = this.running;
    return {
      inFlight: r?.dispatcher.inFlight ?? 0,
      scheduledRetries: r?.redelivery.waiting ?? 0,
      held: r?.leases.size ?? 0,
      // The reader that came back last the longest ago: a stuck one must show.
      lastReadAt: r ? Math.min(...r.readLoops.map(loop => loop.lastReadAt)) : 0,
    };
  }

  /** The stream keys this server reads (one per handler; a partitioned pattern's partitions). */
  get streams(): string[] {
    return [...this.messageHandlers].flatMap(([pattern, handler]) => {
      const partitions = handler.isEventHandler ? (handler.extras as { partitions?: unknown } | undefined)?.partitions : undefined;
      return typeof partitions === 'number' ? this.keys.partitions(pattern, partitions) : [this.keys.stream(pattern)];
    });
  }

  /**
   * With ordered partitions: the partitions of each ordered partitioned pattern this consumer holds the lease of
   * and reads now (0-based indexes), by pattern. Empty before listen().
   */
  get ownedPartitions(): Map<string, number[]> {
    return this.running?.ownership?.owned ?? new Map();
  }

  /**
   * Wires the consumer's parts; control flows one way: reader / intake -> dispatcher -> attempt, policy, settler,
   * redelivery (the dispatcher takes due retries back from it). Each part is made before the parts that call it.
   */
  private assemble(commands: RedisClient, readers: RedisClient[], routes: Map<string, Route>, readGroups: string[][]): Running {
    const streams = readGroups.flat();
    const o = this.options;
    const deadLetterKeys = deadLetterKeysOf(routes.values());
    const emit: EmitEvent = (event, ...args) => this.events.emit(event, ...args);
    const logger = this.logger;
    const slots = new Slots(o.concurrency);
    const requestStreams = new Set([...routes.values()].filter(r => !r.isEvent).map(r => r.stream));
    const leases = new Leases(commands, o.group, o.consumer, o.claim.minIdleMs, { streams: requestStreams, minIdleMs: o.claim.requestMinIdleMs });
    const acker = new Acker(commands, o.group, err => this.reportError('XACK failed, will retry', err));
    const instrumentation = this.instrumentation;
    const gone = new GoneEntries({ redis: commands, leases, group: o.group, logger, emit, instrumentation });
    const replies = new ReplyWriter(appendReplyTo(commands));
    const redelivery = new Redelivery({ redis: commands, group: o.group, consumer: o.consumer, leases, gone, logger });
    const failures = new FailureRecord(commands, o.group, logger);
    const settler = new Settler({ redis: commands, options: o, acker, leases, replies, logger, emit, instrumentation, failures, gone });
    const rateLimits = new RedisRateLimits({ redis: commands, logger });
    const attempt = new Attempt({
      options: o, replies, instrumentation, hooks: this.processingHooks, rateLimits,
      onReplyError: (entry, err) => this.reportError(`Request ${entry.id} of ${entry.stream} was handled but its reply was not written`, err),
    });
    const owned = orderedPartitions(routes);
    // Ordered partitions: the leases held here, kept below the dispatcher (which reads them) and the ownership (which writes them).
    const partitionLeases = owned.length === 0 ? undefined : new PartitionLeaseTable(owned.flatMap(p => p.streams));
    const lateCompletions = partitionLeases && new LateCompletions({
      redis: commands, keys: this.keys, group: o.group, consumer: o.consumer, table: partitionLeases,
      onLateCompletion: event => {
        logger.warn?.(
          `Entry ${event.id} of partition ${event.stream} finished after this consumer lost the partition's lease (generation ${event.fencingToken}; ` +
            `held by ${event.owner ?? 'nobody'} now): the partition's next owner may have run it, and later entries, meanwhile. ` +
            `Guard writes with ctx.getFencingToken(), and keep handlers from blocking the event loop longer than claim.minIdleMs`,
        );
        instrumentation.lateCompletion(event.stream);
        emit('lateCompletion', event);
      },
      onError: err => this.reportError('Could not check whether a partition changed hands during a handler call', err),
    });
    const dispatcher = new Dispatcher({
      routes, slots, leases, attempt, settler, redelivery, maxWaitingRetries: o.maxWaitingRetries, logger, partitionLeases, lateCompletions, acks: acker,
    });
    const utf8Guard = new Utf8Guard({ redis: commands, leases, logger });
    const intake = new PendingIntake({ redis: commands, options: o, leases, slots, dispatcher, gone, emit, instrumentation, utf8Guard, failures });
    const onError = (err: unknown) => this.reportError('Redis Streams loop error', err);
    const unreadTrims = new UnreadTrims({ redis: commands, group: o.group, gone, logger, onError });
    const ownership: PartitionOwnership | undefined = partitionLeases && new PartitionOwnership({
      redis: commands, options: o, keys: this.keys, patterns: owned, intake, leases, table: partitionLeases, logger,
      letGo: stream => dispatcher.letGoPartition(stream),
      flushAcks: () => acker.flush(),
      onError: err => this.reportError('Partition ownership round failed', err),
    });
    const readLoops = readGroups.map(
      (groupStreams, i) =>
        new ReadLoop({
          reader: readers[i], options: o, streams: groupStreams, leases, dispatcher, intake, logger, onError,
          ensureGroups: () => this.ensureGroups(commands, groupStreams),
          utf8Guard,
          sizeGuard: o.boundedReads ? new SizeGuard({ redis: commands, options: o, streams: groupStreams, deadLetterKeys }) : undefined,
          ownership,
          unreadTrims,
        }),
    );
    const retention = retentionOf(routes, { redis: commands, logger, emit, instrumentation });
    const claimLoop = new ClaimLoop({ redis: commands, options: o, streams, leases, intake, dispatcher, logger, onError, ownership, retention, gone, unreadTrims });
    const unwatch = instrumentation.watch({ redis: commands, group: o.group, streams, deadLetterKeys });
    const eventStreams = [...routes.values()].filter(r => r.isEvent).map(r => r.stream);
    const mover = o.scheduler && eventStreams.length > 0
      ? new ScheduledMover({ redis: commands, keys: this.keys, streams: eventStreams, options: o.scheduler, logger, onError: err => this.reportError('Moving delayed emits failed', err) })
      : undefined;
    return { commands, readers, leases, acker, slots, dispatcher, redelivery, settler, readLoops, claimLoop, mover, ownership, rateLimits, unwatch };
  }

  /**
   * Checks the user's permissions (a PermissionError names what is missing), then creates the groups before
   * reporting "listening", so events emitted right after are not missed. Returns the first connection error
   * instead of waiting: ioredis would retry each command for seconds.
   */
  private async firstContact(commands: RedisClient, streams: string[], routes: Map<string, Route>): Promise<unknown> {
    const scope = consumerPermissionScope(
      this.options, streams, [...this.messageHandlers.values()].some(h => !h.isEventHandler), this.partitionScope(routes),
      [...routes.values()].filter(r => r.retention).map(r => r.stream),
      [...new Set([...routes.values()].flatMap(r => (r.rateLimit ? [r.rateLimit.key] : [])))],
    );
    const groups = checkConsumerPermissions(commands, scope).then(() => this.ensureGroups(commands, streams));
    let onError!: (err: unknown) => void;
    const unreachable = new Promise<unknown>(resolve => commands.once('error', (onError = resolve)));
    const failure = await Promise.race([groups.then(() => undefined), unreachable]).catch(err => err);
    commands.off('error', onError);
    // Redis was unreachable and the check goes on in the background: a refusal once it answers is reported.
    groups.catch(err => {
      if (err !== failure && (isFatalRedisError(err) || err instanceof PartitionError)) this.reportError('Redis refused the consumer once it could be reached', err);
    });
    return failure;
  }

  /** What partitioned patterns need besides their streams, for the permission check (undefined without any). */
  private partitionScope(routes: Map<string, Route>): PartitionPermissionScope | undefined {
    const counted = this.eventPatterns.filter(p => p.partitions !== undefined);
    if (counted.length === 0) return undefined;
    const ordered = orderedPartitions(routes);
    return {
      counted: counted.map(({ pattern }) => ({ countKey: this.keys.partitionCount(pattern), stream: this.keys.stream(pattern) })),
      leaseKeys: ordered.flatMap(p => p.streams.map(s => this.keys.partitionOwner(s, this.options.group))),
      generationKeys: ordered.flatMap(p => p.streams.map(s => this.keys.partitionGeneration(s, this.options.group))),
      memberKeys: ordered.map(p => this.keys.partitionMembers(this.options.group, p.pattern)),
    };
  }

  /**
   * Records the partition counts of the patterns these streams belong to (a different one recorded already is a
   * PartitionError: see recordPartitionCounts), then creates the group on every stream.
   */
  private async ensureGroups(redis: RedisClient, streams: string[]): Promise<void> {
    const here = new Set(streams);
    const patterns = this.eventPatterns.filter(p =>
      (p.partitions === undefined ? [this.keys.stream(p.pattern)] : this.keys.partitions(p.pattern, p.partitions)).some(s => here.has(s)),
    );
    const unread = await recordPartitionCounts(redis, this.keys, patterns);
    if (!this.warnedUnread && unread.length > 0) {
      this.warnedUnread = true;
      for (const { pattern, stream, length } of unread) {
        this.logger.warn?.(
          `${stream} holds ${length} entries, but @EventPattern('${pattern}') reads only its partitions (${this.keys.partition(pattern, 0)} ...): ` +
            `entries written before the pattern had partitions, or by a producer that emitted before any consumer recorded the count, are not read here. ` +
            `Start consumers before producers, or give producers the client option partitions: { '${pattern}': n }`,
        );
      }
    }
    for (const stream of streams) {
      try {
        await redis.xgroup('CREATE', stream, this.options.group, this.options.startId, 'MKSTREAM');
      } catch (err) {
        if (!isBusyGroup(err)) throw err;
        continue;
      }
      if (this.options.startId === '$') await this.warnAboutHistory(redis, stream);
    }
  }

  /** A new group at `$` skips what the stream already holds: say so, once, where the operator looks. */
  private async warnAboutHistory(redis: RedisClient, stream: string): Promise<void> {
    const length = await redis.xlen(stream);
    if (length > 0) {
      this.logger.warn?.(
        `Created group "${this.options.group}" on ${stream} at '$' (startId): the ${length} entries already in the stream will not be delivered to it. ` +
          `To include them, create the group with startId: '0' (or XGROUP SETID ${stream} ${this.options.group} 0).`,
      );
    }
  }

  /** Status from the (first) reader: it is what stops when Redis is gone. Errors from every connection. */
  private watchConnection(commands: RedisClient, readers: RedisClient[]): void {
    const reader = readers[0];
    const status = (s: RedisStreamsStatus) => {
      this._status$.next(s);
      this.events.emit(s);
    };
    reader.on('ready', () => status(RedisStreamsStatus.CONNECTED));
    reader.on('close', () => {
      if (!this.closing) status(RedisStreamsStatus.DISCONNECTED);
    });
    reader.on('reconnecting', () => status(RedisStreamsStatus.RECONNECTING));
    // Without a listener, an ioredis 'error' event would crash the process. Reconnects are ioredis's job.
    const onError = (err: Error) => this.events.emit('error', err);
    commands.on('error', onError);
    // For the health check: why the commands connection is not up (ECONNREFUSED, ETIMEDOUT...).
    commands.on('error', (err: Error) => (this.connectionError = err));
    commands.on('ready', () => (this.connectionError = undefined));
    for (const r of readers) r.on('error', onError);
  }

  /** Logs (the same error at most once per REPEATED_ERROR_LOG_MS) and emits `error`. */
  private reportError(what: string, err: unknown): void {
    const text = `${what}: ${redisErrorMessage(err)}`;
    const now = Date.now();
    if (text !== this.lastErrorLog.text || now - this.lastErrorLog.at >= REPEATED_ERROR_LOG_MS) {
      this.lastErrorLog = { text, at: now };
      this.logger.error(text);
    }
    this.events.emit('error', err);
  }

  private async shutdown(): Promise<void> {
    const r = this.running;
    if (!r) return;
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    r.redelivery.stop();
    r.dispatcher.stop();
    // Entries waiting for a rate limit's turn stay pending, unrun: they are not handlers in flight.
    r.rateLimits.stop();
    r.unwatch();
    // The loops may be waiting on an unreachable Redis: do not wait for them past the deadline.
    await settleWithin(Promise.all([...r.readLoops.map(loop => loop.stop()), r.claimLoop.stop(), r.mover?.stop()]), deadline - Date.now());
    const drained = await settleWithin(r.slots.whenIdle(), deadline - Date.now());
    if (!drained) {
      this.logger.warn?.(`close(): ${r.slots.inUse} handlers still running after shutdownTimeoutMs; their entries stay pending`);
    }
    await settleWithin(r.acker.flush(), Math.max(0, deadline - Date.now()));
    // After the acks: the next owner of a partition given up takes whatever is still pending.
    if (r.ownership) await settleWithin(r.ownership.stop(), Math.max(0, deadline - Date.now()));
    r.acker.stop();
    r.settler.stop();
    await quitOrDisconnect(r.commands);
    this._status$.next(RedisStreamsStatus.DISCONNECTED);
    this.events.emit(RedisStreamsStatus.DISCONNECTED);
  }
}

/** The @EventPatterns of the routes, each once, with its partition count if partitioned. */
function eventPatternsOf(routes: Map<string, Route>): EventPatternPartitions[] {
  const patterns = new Map<string, EventPatternPartitions>();
  for (const route of routes.values()) {
    if (route.isEvent && !patterns.has(route.pattern)) patterns.set(route.pattern, { pattern: route.pattern, partitions: route.partition?.count });
  }
  return [...patterns.values()];
}

/** The ordered partitioned patterns of the routes, with their partition streams in index order. */
/** The safe retention of the streams that have one, or undefined when none has. */
function retentionOf(routes: Map<string, Route>, deps: Omit<RetentionDeps, 'policies'>): Retention | undefined {
  const policies = new Map<string, ResolvedRetention>();
  for (const [stream, route] of routes) if (route.retention) policies.set(stream, route.retention);
  return policies.size === 0 ? undefined : new Retention({ ...deps, policies });
}

function orderedPartitions(routes: Map<string, Route>): Array<{ pattern: string; streams: string[] }> {
  const patterns = new Map<string, string[]>();
  for (const route of routes.values()) {
    if (!route.ordered || !route.partition) continue;
    const streams = patterns.get(route.pattern) ?? [];
    streams[route.partition.index] = route.stream;
    patterns.set(route.pattern, streams);
  }
  return [...patterns].map(([pattern, streams]) => ({ pattern, streams }));
}
