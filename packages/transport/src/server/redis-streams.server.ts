import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { Acker } from '../consumer/acker.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { ClaimLoop } from '../consumer/claim-loop.js';
import { Dispatcher } from '../consumer/dispatcher.js';
import { EntryProcessor, type Route } from '../consumer/entry-processor.js';
import { installErrorCapture } from '../consumer/error-capture.js';
import { Leases } from '../consumer/leases.js';
import { ReadLoop } from '../consumer/read-loop.js';
import { ReplyWriter } from '../consumer/reply-writer.js';
import { Slots } from '../consumer/slots.js';
import { StreamKeys } from '../keys.js';
import {
  resolveRetry,
  resolveServerOptions,
  type RedisStreamsHandlerExtras,
  type RedisStreamsServerOptions,
  type ResolvedServerOptions,
} from '../options.js';
import { createRedis } from '../redis/create-redis.js';
import { isBusyGroup } from '../redis/replies.js';
import { createConsumerInstrumentation } from '../observability/create-instrumentation.js';
import type { ConsumerInstrumentation } from '../observability/instrumentation.js';
import { settleWithin } from '../settle-within.js';
import { RedisStreamsStatus, type RedisStreamsEvents } from '../status.js';

interface Running {
  redis: Redis;
  blocking: Redis;
  acker: Acker;
  slots: Slots;
  dispatcher: Dispatcher;
  readLoop: ReadLoop;
  claimLoop: ClaimLoop;
  /** Stops the metrics gauges reading this server's streams. */
  unwatch: () => void;
}

/**
 * Nest transport strategy over Redis Streams consumer groups:
 * `NestFactory.createMicroservice(AppModule, { strategy: new RedisStreamsServer({ group: 'orders' }) })`.
 * Each handler's pattern is a stream; entries are acked only after the handler succeeded.
 */
export class RedisStreamsServer
  extends Server<{ [K in keyof RedisStreamsEvents]: RedisStreamsEvents[K] }, RedisStreamsStatus>
  implements CustomTransportStrategy
{
  readonly options: ResolvedServerOptions;
  /** Metrics and tracing (`metrics`, `tracing` options); NO_INSTRUMENTATION when both are off. */
  private readonly instrumentation: ConsumerInstrumentation;
  protected override readonly logger = new Logger(RedisStreamsServer.name);
  private readonly keys: StreamKeys;
  private readonly events = new EventEmitter();
  private running?: Running;
  private closing?: Promise<void>;

  constructor(options: RedisStreamsServerOptions) {
    super();
    this.options = resolveServerOptions(options);
    this.keys = new StreamKeys(this.options.keyPrefix);
    this.instrumentation = createConsumerInstrumentation(this.options.group, options);
    this.transportId = this.options.transportId;
    // Handler failures are the transport's to settle (retry, dead letter): Nest 12 need not log them again.
    // Assigned, not declared, because NestJS 11's Server has no such member.
    (this as { propagatesEventHandlerErrors?: boolean }).propagatesEventHandlerErrors = true;
    // 'error' without a listener would throw: errors are always logged, listeners are optional.
    this.events.on('error', () => undefined);
    installErrorCapture();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const routes = this.buildRoutes();
      const streams = [...routes.keys()];
      const o = this.options;
      const redis = createRedis(o.connection, 'commands');
      const blocking = createRedis(o.connection, 'reader');
      this.watchConnection(redis, blocking);
      const slots = new Slots(o.concurrency);
      const acker = new Acker(redis, o.group, err => this.reportError('XACK failed, will retry', err));
      const leases = new Leases(redis, o.group, o.consumer);
      const emit = (event: string, payload: unknown) => this.events.emit(event, payload);
      const processor = new EntryProcessor({ redis, options: o, acker, leases, replies: new ReplyWriter(redis), logger: this.logger, emit, instrumentation: this.instrumentation });
      const dispatcher = new Dispatcher(routes, processor, slots, leases, this.logger);
      const onError = (err: unknown) => this.reportError('Redis Streams loop error', err);
      const readLoop = new ReadLoop({
        blocking, options: o, streams, slots, leases, dispatcher, logger: this.logger, onError,
        ensureGroups: () => this.ensureGroups(redis, streams),
      });
      const onClaim = (event: string, payload: unknown) => {
        if (event === 'claimed') this.instrumentation.claimed((payload as { stream: string }).stream, (payload as { ids: string[] }).ids.length);
        emit(event, payload);
      };
      const claimLoop = new ClaimLoop({ redis, options: o, streams, slots, leases, dispatcher, logger: this.logger, emit: onClaim, onError });
      const dlq = o.deadLetter === false ? undefined : o.deadLetter.key;
      const unwatch = this.instrumentation.watch({ redis, group: o.group, streams, deadLetterKey: dlq });
      this.running = { redis, blocking, acker, slots, dispatcher, readLoop, claimLoop, unwatch };
      blocking.on('ready', () => readLoop.markReconnected());

      if (streams.length > 0) {
        // Create the groups before reporting "listening", so events emitted right after are not missed.
        // Redis down: say so, keep retrying in the reader, and do not hold up the application.
        // The first connection error ends the wait: ioredis would retry each command for seconds.
        const groups = this.ensureGroups(redis, streams);
        const unreachable = new Promise<unknown>(resolve => redis.once('error', resolve));
        const failure = await Promise.race([groups.then(() => undefined), unreachable]).catch(err => err);
        groups.catch(() => undefined);
        if (failure) {
          this.reportError('Could not create the consumer groups yet (Redis unreachable?); retrying in the background', failure);
        }
        readLoop.start();
        claimLoop.start();
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

  /** The ioredis connections: `commands` (XACK, XADD, claims) and `reader` (the blocking XREADGROUP). */
  unwrap<T = { commands: Redis; reader: Redis }>(): T {
    if (!this.running) throw new Error('Not initialized. Call listen() (or start the microservice) before unwrap().');
    return { commands: this.running.redis, reader: this.running.blocking } as T;
  }

  /** Handlers in flight and retries waiting, for health checks and metrics. */
  get stats(): { inFlight: number; scheduledRetries: number; lastReadAt: number } {
    const r = this.running;
    return { inFlight: r?.dispatcher.inFlight ?? 0, scheduledRetries: r?.dispatcher.scheduledRetries ?? 0, lastReadAt: r?.readLoop.lastReadAt ?? 0 };
  }

  /** The stream keys this server reads (one per handler). */
  get streams(): string[] {
    return [...this.messageHandlers.keys()].map(p => this.keys.stream(p));
  }

  private buildRoutes(): Map<string, Route> {
    const routes = new Map<string, Route>();
    for (const [pattern, handler] of this.messageHandlers) {
      const extras = (handler.extras ?? {}) as RedisStreamsHandlerExtras;
      const stream = this.keys.stream(pattern);
      routes.set(stream, {
        stream,
        pattern,
        handler,
        isEvent: handler.isEventHandler === true,
        retry: resolveRetry(this.options.retry, extras.retry, `@EventPattern('${pattern}') extras.retry`),
        ordered: extras.ordered === true,
        batch: extras.batch === true,
      });
      if (extras.batch && handler.isEventHandler !== true) {
        throw new InvalidOptionsError(`@MessagePattern('${pattern}') extras.batch`, 'batch is for @EventPattern handlers only');
      }
      if (extras.ordered && extras.batch) {
        throw new InvalidOptionsError(`@EventPattern('${pattern}') extras`, 'ordered and batch cannot be combined');
      }
    }
    return routes;
  }

  private async ensureGroups(redis: Redis, streams: string[]): Promise<void> {
    for (const stream of streams) {
      try {
        await redis.xgroup('CREATE', stream, this.options.group, this.options.startId, 'MKSTREAM');
      } catch (err) {
        if (!isBusyGroup(err)) throw err;
      }
    }
  }

  private watchConnection(redis: Redis, blocking: Redis): void {
    const status = (s: RedisStreamsStatus) => {
      this._status$.next(s);
      this.events.emit(s);
    };
    blocking.on('ready', () => status(RedisStreamsStatus.CONNECTED));
    blocking.on('close', () => {
      if (!this.closing) status(RedisStreamsStatus.DISCONNECTED);
    });
    blocking.on('reconnecting', () => status(RedisStreamsStatus.RECONNECTING));
    // Without a listener, an ioredis 'error' event would crash the process. Reconnects are ioredis's job.
    const onError = (err: Error) => this.events.emit('error', err);
    redis.on('error', onError);
    blocking.on('error', onError);
  }

  private reportError(what: string, err: unknown): void {
    this.logger.error(`${what}: ${(err as Error)?.message ?? String(err)}`);
    this.events.emit('error', err);
  }

  private async shutdown(): Promise<void> {
    const r = this.running;
    if (!r) return;
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    r.dispatcher.stop();
    r.unwatch();
    // The loops may be waiting on an unreachable Redis: do not wait for them past the deadline.
    await settleWithin(Promise.all([r.readLoop.stop(), r.claimLoop.stop()]), deadline - Date.now());
    const drained = await settleWithin(r.slots.whenIdle(), deadline - Date.now());
    if (!drained) {
      this.logger.warn?.(`close(): ${r.slots.inUse} handlers still running after shutdownTimeoutMs; their entries stay pending`);
    }
    await settleWithin(r.acker.flush(), Math.max(0, deadline - Date.now()));
    r.acker.stop();
    // quit() lets queued commands finish; an unreachable Redis gets a plain disconnect after 1 s.
    if (!(await settleWithin(r.redis.quit().catch(() => undefined), 1000))) r.redis.disconnect();
    this._status$.next(RedisStreamsStatus.DISCONNECTED);
    this.events.emit(RedisStreamsStatus.DISCONNECTED);
  }
}
