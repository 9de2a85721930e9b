import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { InvalidMessageException } from '@nestjs/microservices/errors/invalid-message.exception.js';
import { from, throwError, type Observable } from 'rxjs';
import { RequestTimeoutError } from '../errors/request-timeout.error.js';
import { StreamKeys } from '../keys.js';
import { resolveClientOptions, type RedisStreamsClientOptions, type ResolvedClientOptions } from '../options.js';
import { commandError } from '../redis/command-errors.js';
import { createRedis, firstContact, quitOrDisconnect } from '../redis/create-redis.js';
import { isCertificateError, redisErrorMessage } from '../redis/replies.js';
import { checkProducerPermissions } from '../redis/permissions.js';
import { RedisStreamsStatus } from '../status.js';
import { encode } from '../wire/codec.js';
import { ReplyReader } from './reply-reader.js';
import { xaddMany } from './xadd-many.js';
import { RedisStreamRecord } from './redis-stream-record.js';

/**
 * Nest ClientProxy over Redis Streams: `emit()` XADDs one entry to the pattern's stream and yields its id;
 * `send()` XADDs a request and waits for the reply on this client's reply stream.
 * Register with `ClientsModule.register([{ name: 'EVENTS', customClass: RedisStreamsClient, options }])`.
 */
// Default generics, so `ClientsModule.register({ customClass: RedisStreamsClient })` type-checks.
export class RedisStreamsClient extends ClientProxy {
  readonly options: ResolvedClientOptions;
  private readonly keys: StreamKeys;
  private readonly clientId = randomUUID();
  private redis?: Redis;
  private connecting?: Promise<Redis>;
  private replies?: ReplyReader;

  constructor(options: RedisStreamsClientOptions = {}) {
    super();
    this.options = resolveClientOptions(options);
    this.keys = new StreamKeys(this.options.keyPrefix);
  }

  /**
   * Connects; commands issued before the connection is up are queued by ioredis. Resolves once Redis answered
   * or the first connection attempt failed (Redis down: emits queue and fail on their own). Rejects when the
   * server's TLS certificate is refused (unknown CA, wrong host name): retrying cannot fix that.
   */
  async connect(): Promise<Redis> {
    this.connecting ??= this.open();
    return this.connecting;
  }

  private async open(): Promise<Redis> {
    // Auto-pipelining: concurrent emits share one round trip instead of waiting for each other.
    const redis = createRedis(this.options.connection, 'producer', { enableAutoPipelining: true });
    redis.on('error', () => undefined); // reported through status and failed emits; must not crash the process
    redis.on('ready', () => this._status$.next(RedisStreamsStatus.CONNECTED));
    redis.on('close', () => this._status$.next(RedisStreamsStatus.DISCONNECTED));
    redis.on('reconnecting', () => this._status$.next(RedisStreamsStatus.RECONNECTING));
    const failure = await firstContact(redis);
    if (isCertificateError(failure)) {
      redis.disconnect();
      this.connecting = undefined;
      throw new Error(`RedisStreamsClient could not connect: ${redisErrorMessage(failure)}`, { cause: failure });
    }
    this.redis = redis;
    return redis;
  }

  async close(): Promise<void> {
    const { redis, replies } = this;
    this.redis = undefined;
    this.connecting = undefined;
    this.replies = undefined;
    await replies?.close();
    if (redis) await quitOrDisconnect(redis);
  }

  unwrap<T = Redis>(): T {
    if (!this.redis) throw new Error('Not initialized. Call connect() (or emit/send once) before unwrap().');
    return this.redis as T;
  }

  /** The stream key a pattern's entries go to. */
  streamOf(pattern: unknown): string {
    return this.keys.stream(this.normalizePattern(pattern as string));
  }

  /**
   * Emits many events of one pattern in one round trip (a script adds them in chunks, in order). Resolves
   * with their entry ids, in order. Same delivery guarantees as emit().
   */
  async emitMany(pattern: unknown, events: unknown[]): Promise<string[]> {
    const redis = await this.connect();
    const name = this.normalizePattern(pattern as string);
    const entries = events.map(event => {
      const { data, headers } = unwrapRecord(event);
      return encode({ data, headers, correlationId: randomUUID() }, [], this.options.serializer);
    });
    const stream = this.keys.stream(name);
    return xaddMany(redis, stream, this.maxLenOf(name), entries).catch(err => {
      throw commandError(err, 'XADD', stream);
    });
  }

  /**
   * Checks, without side effects, that the Redis user may write these patterns' streams (and, with `send`,
   * read this client's reply stream); rejects with a PermissionError naming each missing command and key.
   * For a fail-fast start-up (`onApplicationBootstrap`); without it the first emit or send fails the same way.
   */
  async checkPermissions(patterns: string[], use: { emitMany?: boolean; send?: boolean } = {}): Promise<void> {
    await checkProducerPermissions(await this.connect(), {
      streams: patterns.map(p => this.streamOf(p)),
      emitMany: use.emitMany,
      replyStream: use.send ? this.keys.replies(this.clientId) : undefined,
    });
  }

  /**
   * Same contract as ClientProxy.emit (hot: sent at once; yields the entry id), without the per-event
   * rxjs machinery of the base class, which costs more CPU than the XADD itself.
   */
  override emit<TResult = string, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === null || pattern === undefined || data === null || data === undefined) {
      return throwError(() => new InvalidMessageException());
    }
    // NestJS 12 builds the packet with createPacket() (which runs the dispatch hook); 11 has neither.
    const self = this as unknown as { createPacket?: (pattern: unknown, data: unknown) => ReadPacket };
    const packet = self.createPacket ? self.createPacket(pattern, data) : ({ pattern, data } as ReadPacket);
    const sent = this.dispatchEvent<TResult>(packet);
    sent.catch(() => undefined); // reported to subscribers; an emit nobody subscribes to must not crash the process
    return from(sent);
  }

  protected async dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    const redis = this.redis ?? (await this.connect());
    const pattern = this.normalizePattern(packet.pattern);
    const { data, headers } = unwrapRecord(packet.data);
    const args = encode({ data, headers, correlationId: randomUUID() }, this.xaddHead(pattern), this.options.serializer);
    try {
      return (await redis.call('xadd', args)) as T;
    } catch (err) {
      throw commandError(err, 'XADD', args[0] as string);
    }
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    const { data, headers, timeoutMs = this.options.requestTimeoutMs } = unwrapRecord(packet.data);
    const correlationId = randomUUID();
    const replies = (this.replies ??= new ReplyReader(this.options.connection, this.keys.replies(this.clientId)));
    const timer = setTimeout(() => {
      replies.forget(correlationId);
      callback({ err: new RequestTimeoutError(pattern, timeoutMs), isDisposed: true });
    }, timeoutMs);
    replies.expect(correlationId, reply => {
      if (reply.isDisposed || reply.err) {
        clearTimeout(timer);
        replies.forget(correlationId);
      }
      callback(reply);
    });
    const args = encode(
      { data, headers, correlationId, replyTo: replies.stream, deadline: Date.now() + timeoutMs },
      this.xaddHead(pattern),
      this.options.serializer,
    );
    // Not sent when the reply could never be read (no permission on the reply stream).
    this.connect()
      .then(async redis => {
        await replies.allowed(redis);
        return redis.call('xadd', args).catch(err => Promise.reject(commandError(err, 'XADD', args[0] as string)));
      })
      .catch(err => {
        clearTimeout(timer);
        replies.forget(correlationId);
        callback({ err, isDisposed: true });
      });
    return () => {
      clearTimeout(timer);
      replies.forget(correlationId);
    };
  }

  private maxLenOf(pattern: string): number | undefined {
    return this.options.maxLenByPattern[pattern] ?? this.options.maxLen;
  }

  /** XADD's arguments before the fields: the stream, its trimming if any, and `*` for a new id. */
  private xaddHead(pattern: string): (string | number)[] {
    const maxLen = this.maxLenOf(pattern);
    return maxLen ? [this.keys.stream(pattern), 'MAXLEN', '~', maxLen, '*'] : [this.keys.stream(pattern), '*'];
  }
}

function unwrapRecord(value: unknown): { data: unknown; headers?: Record<string, string>; timeoutMs?: number } {
  if (value instanceof RedisStreamRecord) return { data: value.data, headers: value.headers, timeoutMs: value.options.timeoutMs };
  return { data: value };
}
