import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/redis-client.js';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { InvalidMessageException } from '@nestjs/microservices/errors/invalid-message.exception.js';
import { from, throwError, type Observable } from 'rxjs';
import { ClientClosedError } from '../errors/client-closed.error.js';
import { NoConsumerGroupError } from '../errors/no-consumer-group.error.js';
import { PartitionError } from '../errors/partition.error.js';
import { RequestTimeoutError } from '../errors/request-timeout.error.js';
import { StreamKeys } from '../keys.js';
import { partitionOf } from '../partition-routing.js';
import { resolveClientOptions, type RedisStreamsClientOptions, type ResolvedClientOptions } from '../options/client.js';
import { quitOrDisconnect } from '../redis/create-redis.js';
import { checkProducerPermissions } from '../redis/permissions.js';
import { RedisStreamsStatus } from '../status.js';
import { encode } from '../wire/codec.js';
import { createProducerInstrumentation } from '../observability/create-instrumentation.js';
import type { ProducerInstrumentation } from '../observability/instrumentation.js';
import { PartitionCounts, type KnownPartitions } from './partition-counts.js';
import { ProducerConnection } from './producer-connection.js';
import { ReaderGroups } from './reader-groups.js';
import { ReplyReader } from './reply-reader.js';
import { xaddMany, xaddManyChunks } from './xadd-many.js';
import { xaddOnce } from './xadd-once.js';
import { cancelScheduled, scheduleEntry, type Schedule } from './scheduled-writes.js';
import { DurableWrites } from './durable-writes.js';
import { SCRIPTS } from '../redis/scripts/scripts.generated.js';
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
  /** Partition counts of the patterns emitted to, read from Redis on first use. */
  private readonly partitions: PartitionCounts;
  private readonly clientId = randomUUID();
  private producer?: ProducerConnection;
  /** With the `durability` option: the writes that wait for WAIT (on the producer connection). */
  private durable?: DurableWrites;
  private replies?: ReplyReader;
  /** Whether each request stream has a consumer group, learnt after a request and cached (fail-fast send()). */
  private readonly readerGroups = new ReaderGroups();
  /** Metrics and tracing (`metrics`, `tracing` options); undefined when both are off. */
  private instrumentation?: ProducerInstrumentation;
  /** Loading prom-client / @opentelemetry/api for them, from the constructor on; undefined once done. */
  private instrumentationLoading?: Promise<void>;

  constructor(options: RedisStreamsClientOptions = {}) {
    super();
    this.options = resolveClientOptions(options);
    this.keys = new StreamKeys(this.options.keyPrefix);
    this.partitions = new PartitionCounts(
      this.keys,
      this.options.partitions,
      (pattern, key) => this.connection().write(`emit("${pattern}")`, key, redis => redis.get(key), 0, 'GET'),
      () => this.producer?.redis.status === 'ready',
    );
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
   * with RedisUnavailableError after connectTimeoutMs (its `code` the last connection error's, such as
   * `ECONNREFUSED`), or at once with FatalConnectionError on a wrong password or a refused TLS certificate.
   * As with Nest's own clients, a failed connect() leaves nothing reconnecting behind it (writes waiting for
   * that connection fail with the same error): the next connect(), emit() or send() starts over. close()
   * while connecting rejects it with ClientClosedError.
   */
  async connect(): Promise<RedisClient> {
    if (this.instrumentationLoading) await this.instrumentationLoading;
    const connection = this.connection();
    try {
      await connection.ready();
    } catch (err) {
      if (this.producer === connection && !(err instanceof ClientClosedError)) this.discard(connection, err);
      throw err;
    }
    return connection.redis;
  }

  /**
   * Every send() still waiting for a reply fails at once with ClientClosedError (its request may have been
   * handled), every write and connect() waiting for the connection too (not written); writes already sent
   * finish (QUIT), then the connections close.
   */
  async close(): Promise<void> {
    const { producer, replies } = this;
    this.producer = undefined;
    this.durable = undefined;
    this.replies = undefined;
    await replies?.close(new ClientClosedError('send() failed: the client was closed before the reply came; the request may have been handled'));
    if (producer) {
      producer.abort();
      // QUIT lets writes in flight finish; a connection that is not up has none and is simply dropped (its
      // reconnect timer stopped).
      if (producer.redis.status === 'ready') await quitOrDisconnect(producer.redis);
      else producer.redis.disconnect();
    }
  }

  /** Drops a connection whose connect() failed: its waiting writes fail with `err`, its reconnecting stops. */
  private discard(connection: ProducerConnection, err: unknown): void {
    this.producer = undefined;
    this.durable = undefined;
    connection.abort(err);
    connection.redis.disconnect();
  }

  unwrap<T = RedisClient>(): T {
    if (!this.producer) throw new Error('Not initialized. Call connect() (or emit/send once) before unwrap().');
    return this.producer.redis as T;
  }

  /** The stream key a pattern's entries go to (of a partitioned pattern, its partitions are `<stream>:{i}`). */
  streamOf(pattern: unknown): string {
    return this.keys.stream(this.normalizePattern(pattern as string));
  }

  /**
   * Emits many events of one pattern (each event data or a RedisStreamRecord) in one round trip per partition
   * written (a script adds them in chunks, in order). Resolves with their entry ids, in order. Same delivery
   * guarantees as emit(); to a partitioned pattern, each event goes to its partition key's partition.
   */
  async emitMany(pattern: unknown, events: unknown[]): Promise<string[]> {
    if (this.instrumentationLoading) await this.instrumentationLoading;
    const name = this.normalizePattern(pattern as string);
    const records = events.map(unwrapRecord);
    const what = `emitMany("${name}")`;
    const known = this.partitions.peek(name);
    if (!known || (known.count === 0 && this.partitions.worthRecheck(known) && records.some(r => r.partitionKey !== undefined))) {
      return this.afterLookup(what, name, () => this.emitMany(pattern, events));
    }
    if (known.error) throw known.error;
    // Event indexes by stream, in order: one script call (per chunk) per stream.
    const byStream = new Map<string, number[]>();
    records.forEach((record, i) => {
      const stream = this.streamFor(name, known, record.partitionKey, what);
      const indexes = byStream.get(stream);
      if (indexes) indexes.push(i);
      else byStream.set(stream, [i]);
    });
    const metadataByIndex = this.dispatchHookMetadata(pattern, events);
    const ids: string[] = new Array(events.length);
    const connection = this.connection();
    const durable = this.durable;
    const maxLen = this.maxLenOf(name);
    await Promise.all(
      [...byStream].map(async ([stream, indexes]) => {
        const sending = this.instrumentation?.send(stream, undefined, indexes.length);
        const entries = indexes.map(i => {
          const { data, headers } = records[i];
          const metadata = metadataByIndex[i];
          return encode({ data, headers: sending?.headers ? { ...sending.headers, ...headers } : headers, metadata, correlationId: randomUUID() }, [], this.options.serializer);
        });
        const keyed = indexes.some(i => records[i].idempotencyKey !== undefined);
        const delayed = indexes.some(i => records[i].schedule !== undefined);
        if (delayed && keyed) throw new TypeError(`${what}: a delayed emit takes no idempotency key (not supported together)`);
        const written = delayed
          ? this.writeEach(what, stream, maxLen, entries, (fields, k) => {
              const schedule = records[indexes[k]].schedule;
              return schedule && scheduleEntry(connection, durable, { what, stream, keys: this.keys, schedule, fields }, this.confirmMs);
            })
          : keyed
          ? this.writeEach(what, stream, maxLen, entries, (fields, k, xaddArgs) => {
              const key = records[indexes[k]].idempotencyKey;
              return key === undefined ? undefined : xaddOnce(connection, durable, this.options.idempotencyWindowMs, { what, stream, record: this.keys.idempotency(stream, key), xaddArgs }, this.confirmMs);
            })
          : durable
            ? connection.write(what, stream, () => durable.run(what, stream, xaddManyEvals(stream, maxLen, entries)).then(idsOfChunks), this.confirmMs)
            : connection.write(what, stream, redis => xaddMany(redis, stream, maxLen, entries));
        const added = await (sending ? sending.track(written) : written);
        indexes.forEach((index, k) => (ids[index] = added[k]));
      }),
    );
    return ids;
  }

  /**
   * Checks, without side effects, that the Redis user may write these patterns' streams (and, with `send`,
   * read this client's reply stream; with `idempotencyKeys`, run the idempotent write on key records; with the `durability` option, run WAIT); rejects with a PermissionError
   * naming each missing command and key. For a fail-fast start-up (`onApplicationBootstrap`); without it the
   * first emit or send fails the same way (a missing WAIT: a DurabilityError caused by the PermissionError).
   */
  async checkPermissions(patterns: string[], use: { emitMany?: boolean; send?: boolean; idempotencyKeys?: boolean } = {}): Promise<void> {
    const redis = await this.connect();
    const names = patterns.map(p => this.normalizePattern(p));
    const streams: string[] = [];
    for (const name of names) {
      // A partitioned pattern is written to its partitions (the GET itself is checked below).
      const count = await this.partitions.lookup(name).then(
        () => this.partitions.peek(name)?.count ?? 0,
        () => 0,
      );
      streams.push(...(count > 0 ? this.keys.partitions(name, count) : [this.keys.stream(name)]));
    }
    await checkProducerPermissions(redis, {
      streams,
      partitionCountKeys: names.map(name => this.keys.partitionCount(name)),
      emitMany: use.emitMany,
      replyStream: use.send ? this.keys.replies(this.clientId) : undefined,
      durability: this.options.durability !== undefined,
      idempotencyRecords: use.idempotencyKeys ? streams.map(stream => ({ stream, record: this.keys.idempotency(stream, 'nestream-permission-probe') })) : undefined,
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
    const { data, headers, partitionKey, idempotencyKey, schedule } = unwrapRecord(packet.data);
    if (schedule && idempotencyKey !== undefined) {
      return Promise.reject(new TypeError(`emit("${pattern}"): a delayed emit takes no idempotency key (not supported together); drop one of setDelay()/setDeliverAt() and setIdempotencyKey()`));
    }
    const known = this.partitions.peek(pattern);
    // The first emit of a pattern reads its partition count (one GET); emits made meanwhile wait for the same
    // GET and go out after it, in the order they were made.
    if (!known || (known.count === 0 && partitionKey !== undefined && this.partitions.worthRecheck(known))) {
      return this.afterLookup(`emit("${pattern}")`, pattern, () => this.dispatchEvent<T>(packet));
    }
    let stream: string;
    let record: string | undefined;
    try {
      stream = this.streamFor(pattern, known, partitionKey, `emit("${pattern}")`);
      if (idempotencyKey !== undefined) record = this.keys.idempotency(stream, idempotencyKey);
    } catch (err) {
      return Promise.reject(err);
    }
    const correlationId = randomUUID();
    const head = xaddHead(stream, this.maxLenOf(pattern));
    const headLength = head.length; // encode() appends the fields to the head it is given
    const sending = this.instrumentation?.send(stream, headers, 1, correlationId);
    const args = encode({ data, headers: sending?.headers ?? headers, metadata: metadataOf(packet), correlationId }, head, this.options.serializer);
    const connection = this.connection();
    const what = `emit("${pattern}")`;
    if (schedule) {
      const fields = args.slice(headLength);
      const scheduled = scheduleEntry(connection, this.durable, { what, stream, keys: this.keys, schedule, fields }, this.confirmMs) as Promise<T>;
      return sending ? sending.track(scheduled) : scheduled;
    }
    const written =
      record !== undefined
        ? (xaddOnce(connection, this.durable, this.options.idempotencyWindowMs, { what, stream, record, xaddArgs: args }, this.confirmMs) as Promise<T>)
        : this.durable
          ? this.writeDurably<T>(connection, what, args)
          : connection.write(what, stream, redis => redis.call('xadd', args) as Promise<T>);
    return sending ? sending.track(written) : written;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    const { data, headers, timeoutMs = this.options.requestTimeoutMs, partitionKey, idempotencyKey, schedule } = unwrapRecord(packet.data);
    if (schedule) {
      const err = new TypeError(`send("${pattern}"): requests cannot be delayed (the caller waits for the reply); drop setDelay()/setDeliverAt() from the request`);
      callback({ err, isDisposed: true });
      return () => undefined;
    }
    if (partitionKey !== undefined) {
      const err = new PartitionError(`send("${pattern}"): requests are not partitioned (a @MessagePattern reads one stream); drop setPartitionKey() from the request`);
      callback({ err, isDisposed: true });
      return () => undefined;
    }
    if (idempotencyKey !== undefined) {
      // A request's reply goes to the caller that sent it: a repeat answered with the first entry's id could not be.
      const err = new TypeError(`send("${pattern}"): requests take no idempotency key (each send() waits for its own reply); drop setIdempotencyKey() from the request`);
      callback({ err, isDisposed: true });
      return () => undefined;
    }
    const stream = this.keys.stream(pattern);
    // Known from an earlier request to have no group: nobody would answer this one either.
    if (this.readerGroups.cached(stream) === false) {
      callback({ err: new NoConsumerGroupError(pattern, stream, false), isDisposed: true });
      return () => undefined;
    }
    const correlationId = randomUUID();
    const replies = (this.replies ??= new ReplyReader(this.options.connection, this.keys.replies(this.clientId)));
    const sending = this.instrumentation?.send(stream, headers, 1, correlationId);
    let args: Array<string | number>;
    try {
      args = encode(
        { data, headers: sending?.headers ?? headers, metadata: metadataOf(packet), correlationId, replyTo: replies.stream, deadline: Date.now() + timeoutMs },
        xaddHead(stream, this.maxLenOf(pattern)),
        this.options.serializer,
      );
    } catch (err) {
      // Not JSON-serialisable data, headers or metadata that are not strings: nothing sent, nothing to wait for.
      sending?.end(undefined, err);
      callback({ err, isDisposed: true });
      return () => undefined;
    }
    let received = 0;
    let done = false;
    const finish = (packet: WritePacket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      replies.forget(correlationId);
      callback(packet);
    };
    const timer = setTimeout(() => finish({ err: new RequestTimeoutError(pattern, timeoutMs, received), isDisposed: true }), timeoutMs);
    replies.expect(correlationId, reply => {
      if (reply.isDisposed || reply.err) return finish(reply);
      received++;
      callback(reply);
    });
    const connection = this.connection();
    const durable = this.durable;
    const what = `send("${pattern}")`;
    connection
      .write(
        what,
        stream,
        async redis => {
          // Not sent when the reply could never be read (no permission on the reply stream).
          await replies.allowed(redis);
          // Durable: a request WAIT does not confirm fails the send() (DurabilityError); the entry stays in the
          // stream, and a consumer may still handle it (until its deadline): its reply is then ignored.
          return durable ? (await durable.run(what, stream, [['xadd', args]]))[0] : redis.call('xadd', args);
        },
        this.confirmMs,
      )
      .then(id => {
        sending?.end(id as string);
        // Once per pattern and minute (a second while it has none): is anybody reading this stream?
        if (done || this.readerGroups.isFresh(stream)) return;
        const redis = this.producer?.redis;
        if (!redis) return;
        void this.readerGroups.ask(redis, stream).then(hasGroup => {
          if (hasGroup === false && received === 0) finish({ err: new NoConsumerGroupError(pattern, stream, true), isDisposed: true });
        });
      })
      .catch(err => {
        sending?.end(undefined, err);
        finish({ err, isDisposed: true });
      });
    return () => {
      done = true;
      clearTimeout(timer);
      replies.forget(correlationId);
    };
  }

  /**
   * Nest 12's dispatch hook (`setOnDispatchHook`) over each event of an emitMany(), as emit() runs it once per
   * packet: the metadata each call set, index by index. Nothing is built without a hook (or on Nest 11).
   */
  private dispatchHookMetadata(pattern: unknown, events: unknown[]): Array<Record<string, string> | undefined> {
    const self = this as unknown as { onDispatchHook?: unknown; createPacket?: (pattern: unknown, data: unknown) => ReadPacket };
    if (typeof self.onDispatchHook !== 'function' || !self.createPacket) return [];
    return events.map(event => metadataOf(self.createPacket!(pattern, event)));
  }

  /** The producer connection, opened on first use. */
  private connection(): ProducerConnection {
    if (this.producer) return this.producer;
    const producer = new ProducerConnection(this.options);
    producer.redis.on('ready', () => this._status$.next(RedisStreamsStatus.CONNECTED));
    producer.redis.on('close', () => this._status$.next(RedisStreamsStatus.DISCONNECTED));
    producer.redis.on('reconnecting', () => this._status$.next(RedisStreamsStatus.RECONNECTING));
    this.producer = producer;
    const { durability } = this.options;
    if (durability) this.durable = new DurableWrites(producer.redis, durability, this.options.writeTimeoutMs);
    return producer;
  }

  /**
   * emitMany() entries of one stream of which some are written their own way (`special` returns that write: a
   * delayed one, a keyed one through the idempotent script; undefined for a plain XADD): one write each, sent in
   * order on the one connection.
   */
  private writeEach(
    what: string,
    stream: string,
    maxLen: number | undefined,
    entries: Array<Array<string | number>>,
    special: (fields: Array<string | number>, k: number, xaddArgs: Array<string | number>) => Promise<string> | undefined,
  ): Promise<string[]> {
    const connection = this.connection();
    const head = xaddHead(stream, maxLen);
    return Promise.all(
      entries.map((fields, k) => {
        const xaddArgs = [...head, ...fields];
        return (
          special(fields, k, xaddArgs) ??
          (this.durable ? this.writeDurably<string>(connection, what, xaddArgs) : connection.write(what, stream, redis => redis.call('xadd', xaddArgs) as Promise<string>))
        );
      }),
    );
  }

  /**
   * Cancels a delayed emit (`setDelay()`, `setDeliverAt()`) by the schedule id its emit resolved with. Resolves
   * true if it was cancelled, false if it is not scheduled (any more): it entered its stream, or was cancelled.
   */
  async cancelScheduled(pattern: string, scheduleId: string): Promise<boolean> {
    const name = this.normalizePattern(pattern);
    const what = `cancelScheduled("${name}")`;
    await this.connection().write(what, this.keys.partitionCount(name), () => this.partitions.lookup(name), 0, 'GET');
    const count = this.partitions.peek(name)?.count ?? 0;
    const streams = count > 0 ? this.keys.partitions(name, count) : [this.keys.stream(name)];
    for (const stream of streams) {
      if (await cancelScheduled(this.connection(), { what, stream, keys: this.keys }, scheduleId)) return true;
    }
    return false;
  }

  /** How much longer than writeTimeoutMs a write may take: a durable write's WAIT. */
  private get confirmMs(): number {
    return this.options.durability?.timeoutMs ?? 0;
  }

  /** An XADD confirmed by WAIT (the `durability` option); resolves with the entry id. */
  private writeDurably<T>(connection: ProducerConnection, what: string, args: Array<string | number>): Promise<T> {
    const durable = this.durable as DurableWrites;
    const stream = args[0] as string;
    return connection.write(what, stream, () => durable.run(what, stream, [['xadd', args]]).then(replies => replies[0] as T), this.confirmMs);
  }

  private maxLenOf(pattern: string): number | undefined {
    return this.options.maxLenByPattern[pattern] ?? this.options.maxLen;
  }

  /**
   * Runs `then` once the pattern's partition count was read from Redis (one GET). Inside a write of its own, so
   * the first emit of a pattern waits for the connection, counts against offlineQueueLimit and settles within
   * writeTimeoutMs like any other.
   */
  private afterLookup<T>(what: string, pattern: string, then: () => Promise<T>): Promise<T> {
    const key = this.keys.partitionCount(pattern);
    // With durability, `then` waits for a WAIT too: allow for it.
    return this.connection().write(what, key, () => this.partitions.lookup(pattern).then(then), this.confirmMs, 'GET');
  }

  /**
   * The stream an event goes to: the pattern's own, or, partitioned, its partition key's partition (round-robin
   * without a key). A partition key for a pattern without partitions is an error, not ignored.
   */
  private streamFor(pattern: string, known: KnownPartitions, partitionKey: string | undefined, what: string): string {
    if (known.error) throw known.error;
    if (known.count > 0) {
      return this.keys.partition(pattern, partitionKey === undefined ? this.partitions.nextPartition(known) : partitionOf(partitionKey, known.count));
    }
    if (partitionKey === undefined) return this.keys.stream(pattern);
    throw new PartitionError(
      `${what}: the event has a partition key, but "${pattern}" has no partitions (no consumer recorded a count at ${this.keys.partitionCount(pattern)}): ` +
        `declare @EventPattern('${pattern}', { partitions: n }) on its consumers and start one, or give the client partitions: { '${pattern}': n }, or drop setPartitionKey()`,
    );
  }
}

/** XADD's arguments before the fields: the stream, its trimming if any, and `*` for a new id. */
function xaddHead(stream: string, maxLen: number | undefined): Array<string | number> {
  return maxLen ? [stream, 'MAXLEN', '~', maxLen, '*'] : [stream, '*'];
}

/** Nest 12's `packet.metadata` (declared here: Nest 11's ReadPacket has no such member). */
function metadataOf(packet: ReadPacket): Record<string, string> | undefined {
  return (packet as ReadPacket & { metadata?: Record<string, string> }).metadata;
}

function unwrapRecord(value: unknown): {
  data: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  partitionKey?: string;
  idempotencyKey?: string;
  schedule?: Schedule;
} {
  if (value instanceof RedisStreamRecord) {
    const { timeoutMs, partitionKey, idempotencyKey, schedule } = value.options;
    return { data: value.data, headers: value.headers, timeoutMs, partitionKey, idempotencyKey, schedule };
  }
  return { data: value };
}

/**
 * A durable emitMany()'s chunks as EVALs of the xadd-many script. EVAL, not EVALSHA: ioredis sends a script
 * Redis does not know (NOSCRIPT) again outside the pipeline, after the WAIT that would then not cover it.
 */
function xaddManyEvals(stream: string, maxLen: number | undefined, entries: Array<Array<string | number>>): Array<[string, Array<string | number>]> {
  return xaddManyChunks(maxLen, entries).map(args => ['eval', [SCRIPTS.xaddMany.lua, 1, stream, ...args]]);
}

function idsOfChunks(chunks: unknown[]): string[] {
  return chunks.length === 1 ? (chunks[0] as string[]) : (chunks as string[][]).flat();
}
