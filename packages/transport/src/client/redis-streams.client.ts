import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/redis-client.js';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { InvalidMessageException } from '@nestjs/microservices/errors/invalid-message.exception.js';
import { from, throwError, type Observable } from 'rxjs';
import { RequestTimeoutError } from '../errors/request-timeout.error.js';
import { StreamKeys } from '../keys.js';
import { resolveClientOptions, type RedisStreamsClientOptions, type ResolvedClientOptions } from '../options.js';
import { quitOrDisconnect } from '../redis/create-redis.js';
import { checkProducerPermissions } from '../redis/permissions.js';
import { RedisStreamsStatus } from '../status.js';
import { encode } from '../wire/codec.js';
import { createProducerInstrumentation } from '../observability/create-instrumentation.js';
import type { ProducerInstrumentation } from '../observability/instrumentation.js';
import { ProducerConnection } from './producer-connection.js';
import { ReplyReader } from './reply-reader.js';
import { xaddMany } from './xadd-many.js';
import { RedisStreamRecord } from './redis-stream-record.js';
import { brand } from '../brand.js';

/**
 * Nest ClientProxy over Redis Streams: `emit()` XADDs one entry to the pattern's stream and yields its id;
 * `send()` XADDs a request and waits for the reply on this client's reply stream.
 * Register with `ClientsModule.register([{ name: 'EVENTS', customClass: RedisStreamsClient, options }])`.
 */
// Default generics, so `ClientsModule.register({ customClass: RedisStreamsClient })` type-checks.
export class RedisStreamsClient extends ClientProxy {
  static {
    brand(this, 'RedisStreamsClient');
  }

  readonly options: ResolvedClientOptions;
  private readonly keys: StreamKeys;
  private readonly clientId = randomUUID();
  private producer?: ProducerConnection;
  private replies?: ReplyReader;
  /** Metrics and tracing (`metrics`, `tracing` options); undefined when both are off. */
  private instrumentation?: ProducerInstrumentation;
  /** Loading prom-client / @opentelemetry/api for them, from the constructor on; undefined once done. */
  private instrumentationLoading?: Promise<void>;

  constructor(options: RedisStreamsClientOptions = {}) {
    super();
    this.options = resolveClientOptions(options);
    this.keys = new StreamKeys(this.options.keyPrefix);
    if (this.options.metrics || this.options.tracing) {
      const loading = createProducerInstrumentation(this.options).then(i => {
        this.instrumentation = i;
        this.instrumentationLoading = undefined;
      });
      loading.catch(() => undefined); // a missing package fails connect() and every emit and send instead
      this.instrumentationLoading = loading;
    }
  }

  /**
   * Resolves once Redis is ready (Nest calls it before send(); call it at start-up to fail early). Rejects
   * with RedisUnavailableError after connectTimeoutMs, or at once with FatalConnectionError on a wrong
   * password or a refused TLS certificate. The connection keeps trying in the background either way.
   */
  async connect(): Promise<RedisClient> {
    if (this.instrumentationLoading) await this.instrumentationLoading;
    const connection = this.connection();
    await connection.ready();
    return connection.redis;
  }

  async close(): Promise<void> {
    const { producer, replies } = this;
    this.producer = undefined;
    this.replies = undefined;
    await replies?.close();
    if (producer) {
      producer.abort('the client was closed');
      // QUIT lets writes in flight finish; a connection that is not up has none and is simply dropped (its
      // reconnect timer stopped).
      if (producer.redis.status === 'ready') await quitOrDisconnect(producer.redis);
      else producer.redis.disconnect();
    }
  }

  unwrap<T = RedisClient>(): T {
    if (!this.producer) throw new Error('Not initialized. Call connect() (or emit/send once) before unwrap().');
    return this.producer.redis as T;
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
    if (this.instrumentationLoading) await this.instrumentationLoading;
    const name = this.normalizePattern(pattern as string);
    const sending = this.instrumentation?.send(this.keys.stream(name), undefined, events.length);
    const entries = events.map(event => {
      const { data, headers } = unwrapRecord(event);
      return encode({ data, headers: sending?.headers ? { ...sending.headers, ...headers } : headers, correlationId: randomUUID() }, [], this.options.serializer);
    });
    const stream = this.keys.stream(name);
    const written = this.connection().write(`emitMany("${name}")`, stream, redis => xaddMany(redis, stream, this.maxLenOf(name), entries));
    return sending ? sending.track(written) : written;
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

  protected dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    if (this.instrumentationLoading) return this.instrumentationLoading.then(() => this.dispatchEvent(packet));
    const pattern = this.normalizePattern(packet.pattern);
    const { data, headers } = unwrapRecord(packet.data);
    const correlationId = randomUUID();
    const head = this.xaddHead(pattern);
    const sending = this.instrumentation?.send(head[0] as string, headers, 1, correlationId);
    const args = encode({ data, headers: sending?.headers ?? headers, correlationId }, head, this.options.serializer);
    const written = this.connection().write(`emit("${pattern}")`, args[0] as string, redis => redis.call('xadd', args) as Promise<T>);
    return sending ? sending.track(written) : written;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    const { data, headers, timeoutMs = this.options.requestTimeoutMs } = unwrapRecord(packet.data);
    const correlationId = randomUUID();
    const replies = (this.replies ??= new ReplyReader(this.options.connection, this.keys.replies(this.clientId)));
    let received = 0;
    const timer = setTimeout(() => {
      replies.forget(correlationId);
      callback({ err: new RequestTimeoutError(pattern, timeoutMs, received), isDisposed: true });
    }, timeoutMs);
    replies.expect(correlationId, reply => {
      if (reply.isDisposed || reply.err) {
        clearTimeout(timer);
        replies.forget(correlationId);
      } else {
        received++;
      }
      callback(reply);
    });
    const sending = this.instrumentation?.send(this.keys.stream(pattern), headers, 1, correlationId);
    const args = encode(
      { data, headers: sending?.headers ?? headers, correlationId, replyTo: replies.stream, deadline: Date.now() + timeoutMs },
      this.xaddHead(pattern),
      this.options.serializer,
    );
    this.connection()
      .write(`send("${pattern}")`, args[0] as string, async redis => {
        // Not sent when the reply could never be read (no permission on the reply stream).
        await replies.allowed(redis);
        return redis.call('xadd', args);
      })
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

  /** The producer connection, opened on first use. */
  private connection(): ProducerConnection {
    if (this.producer) return this.producer;
    const producer = new ProducerConnection(this.options);
    producer.redis.on('ready', () => this._status$.next(RedisStreamsStatus.CONNECTED));
    producer.redis.on('close', () => this._status$.next(RedisStreamsStatus.DISCONNECTED));
    producer.redis.on('reconnecting', () => this._status$.next(RedisStreamsStatus.RECONNECTING));
    this.producer = producer;
    return producer;
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
