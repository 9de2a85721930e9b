import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { InvalidMessageException } from '@nestjs/microservices/errors/invalid-message.exception.js';
import { from, throwError, type Observable } from 'rxjs';
import { RequestTimeoutError } from '../errors/request-timeout.error.js';
import { StreamKeys } from '../keys.js';
import { resolveClientOptions, type RedisStreamsClientOptions, type ResolvedClientOptions } from '../options.js';
import { createRedis, quitOrDisconnect } from '../redis/create-redis.js';
import { RedisStreamsStatus } from '../status.js';
import { encode } from '../wire/codec.js';
import { createProducerInstrumentation } from '../observability/create-instrumentation.js';
import type { ProducerInstrumentation } from '../observability/instrumentation.js';
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
  private replies?: ReplyReader;
  /** Metrics and tracing (`metrics`, `tracing` options); undefined when both are off. */
  private readonly instrumentation?: ProducerInstrumentation;

  constructor(options: RedisStreamsClientOptions = {}) {
    super();
    this.options = resolveClientOptions(options);
    this.keys = new StreamKeys(this.options.keyPrefix);
    this.instrumentation = createProducerInstrumentation(options);
  }

  /** Connects lazily; commands issued before the connection is up are queued by ioredis. */
  async connect(): Promise<Redis> {
    if (this.redis) return this.redis;
    // Auto-pipelining: concurrent emits share one round trip instead of waiting for each other.
    const redis = createRedis(this.options.connection, 'producer', { enableAutoPipelining: true });
    redis.on('error', () => undefined); // reported through status and failed emits; must not crash the process
    redis.on('ready', () => this._status$.next(RedisStreamsStatus.CONNECTED));
    redis.on('close', () => this._status$.next(RedisStreamsStatus.DISCONNECTED));
    redis.on('reconnecting', () => this._status$.next(RedisStreamsStatus.RECONNECTING));
    this.redis = redis;
    return redis;
  }

  async close(): Promise<void> {
    const { redis, replies } = this;
    this.redis = undefined;
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
    const sending = this.instrumentation?.send(this.keys.stream(name), undefined, events.length);
    const entries = events.map(event => {
      const { data, headers } = unwrapRecord(event);
      return encode({ data, headers: sending?.headers ? { ...sending.headers, ...headers } : headers, correlationId: randomUUID() });
    });
    if (!sending) return xaddMany(redis, this.keys.stream(name), this.maxLenOf(name), entries);
    try {
      const ids = await xaddMany(redis, this.keys.stream(name), this.maxLenOf(name), entries);
      sending.end(ids);
      return ids;
    } catch (err) {
      sending.end(undefined, err);
      throw err;
    }
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
    const correlationId = randomUUID();
    const sending = this.instrumentation?.send(this.keys.stream(pattern), headers, 1, correlationId);
    const args = encode({ data, headers: sending ? sending.headers : headers, correlationId }, this.xaddHead(pattern));
    if (!sending) return (await redis.call('xadd', args)) as T;
    try {
      const id = (await redis.call('xadd', args)) as string;
      sending.end(id);
      return id as T;
    } catch (err) {
      sending.end(undefined, err);
      throw err;
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
    const sending = this.instrumentation?.send(this.keys.stream(pattern), headers, 1, correlationId);
    const args = encode(
      { data, headers: sending ? sending.headers : headers, correlationId, replyTo: replies.stream, deadline: Date.now() + timeoutMs },
      this.xaddHead(pattern),
    );
    this.connect()
      .then(redis => redis.call('xadd', args))
      .then(id => sending?.end(id as string))
      .catch(err => {
        sending?.end(undefined, err);
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
