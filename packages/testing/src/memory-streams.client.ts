import { randomUUID } from 'node:crypto';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { InvalidMessageException } from '@nestjs/microservices/errors/invalid-message.exception.js';
import { from, throwError, type Observable } from 'rxjs';
import {
  encode,
  partitionOf,
  PartitionError,
  RedisStreamRecord,
  RedisStreamsStatus,
  RequestTimeoutError,
  type RedisStreamsClientOptions,
  type RedisStreamsClientSettings,
} from '@nestream/transport';
import { decodeReply, resolveClientOptions, StreamKeys, type ResolvedClientOptions } from '@nestream/transport/internal';
import type { MemoryBroker } from './memory-broker.js';
import type { EmittedRecord } from './test-bed.js';

/** `RedisStreamsClient`'s options (a connection, if given, is checked and not used). */
export type MemoryStreamsClientOptions = RedisStreamsClientSettings | RedisStreamsClientOptions;

/**
 * The `ClientProxy` a test bed's `client()` returns: `emit`, `emitMany`, `send` (with `RedisStreamRecordBuilder`
 * records: headers, partition keys, per-request timeouts), written to the bed's streams in the transport's wire
 * format. Request timeouts run on the bed's virtual clock.
 */
export class MemoryStreamsClient extends ClientProxy {
  readonly options: ResolvedClientOptions;
  /** Everything this client wrote, in order. */
  readonly emitted: EmittedRecord[] = [];
  private readonly keys: StreamKeys;
  private readonly clientId = randomUUID();
  private readonly waiting = new Map<string, (packet: WritePacket) => void>();
  private readonly roundRobin = new Map<string, number>();
  private stopReading?: () => void;

  constructor(
    private readonly broker: MemoryBroker,
    options: MemoryStreamsClientOptions = {},
  ) {
    super();
    this.options = resolveClientOptions(options as RedisStreamsClientOptions);
    this.keys = new StreamKeys(this.options.keyPrefix);
  }

  async connect(): Promise<void> {
    this._status$.next(RedisStreamsStatus.CONNECTED);
  }

  async close(): Promise<void> {
    this.stopReading?.();
    this.stopReading = undefined;
    this.waiting.clear();
    this._status$.next(RedisStreamsStatus.DISCONNECTED);
  }

  unwrap<T>(): T {
    throw new Error('MemoryStreamsClient has no Redis connection to unwrap');
  }

  /** The stream key a pattern's entries go to. */
  streamOf(pattern: unknown): string {
    return this.keys.stream(this.normalizePattern(pattern as string));
  }

  /** Records emitted to one pattern (all patterns without one). */
  emittedTo(pattern?: string): EmittedRecord[] {
    return pattern === undefined ? [...this.emitted] : this.emitted.filter(r => r.pattern === pattern);
  }

  override emit<TResult = string, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (pattern === null || pattern === undefined || data === null || data === undefined) {
      return throwError(() => new InvalidMessageException());
    }
    const self = this as unknown as { createPacket?: (pattern: unknown, data: unknown) => ReadPacket };
    const packet = self.createPacket ? self.createPacket(pattern, data) : ({ pattern, data } as ReadPacket);
    const sent = this.dispatchEvent<TResult>(packet);
    sent.catch(() => undefined);
    return from(sent);
  }

  /** Many events of one pattern, in order; resolves with their ids. */
  async emitMany(pattern: unknown, events: unknown[]): Promise<string[]> {
    const name = this.normalizePattern(pattern as string);
    // Encoded first (a bad event fails the call before anything is written), then added stream by stream.
    const encoded = events.map(event => this.encodeEvent(name, event, false));
    const byStream = new Map<string, number[]>();
    encoded.forEach((e, i) => byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), i]));
    const ids: string[] = new Array(events.length);
    for (const [stream, indexes] of byStream) {
      const added = this.broker.xaddMany(stream, indexes.map(i => encoded[i].fields));
      indexes.forEach((index, k) => (ids[index] = added[k]));
    }
    encoded.forEach((e, i) => this.emitted.push({ ...e.record, id: ids[i] }));
    return ids;
  }

  protected async dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    return this.write(this.normalizePattern(packet.pattern), packet.data, false) as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    const { timeoutMs = this.options.requestTimeoutMs, partitionKey } = unwrapRecord(packet.data);
    if (partitionKey !== undefined) {
      callback({ err: new PartitionError(`send("${pattern}"): requests are not partitioned (a @MessagePattern reads one stream); drop setPartitionKey() from the request`), isDisposed: true });
      return () => undefined;
    }
    const correlationId = randomUUID();
    const replyTo = this.keys.replies(this.clientId);
    this.stopReading ??= this.broker.readReplies(replyTo, fields => this.onReply(fields));
    let received = 0;
    const cancelTimer = this.broker.clock.setTimeout(() => {
      this.waiting.delete(correlationId);
      callback({ err: new RequestTimeoutError(pattern, timeoutMs, received), isDisposed: true });
    }, timeoutMs);
    this.waiting.set(correlationId, reply => {
      if (reply.isDisposed || reply.err) {
        cancelTimer();
        this.waiting.delete(correlationId);
      } else {
        received++;
      }
      callback(reply);
    });
    try {
      this.write(pattern, packet.data, true, { correlationId, replyTo, deadline: this.broker.clock.now() + timeoutMs });
    } catch (err) {
      cancelTimer();
      this.waiting.delete(correlationId);
      callback({ err, isDisposed: true });
    }
    return () => {
      cancelTimer();
      this.waiting.delete(correlationId);
    };
  }

  private onReply(fields: string[]): void {
    const decoded = decodeReply(fields);
    const waiter = decoded.correlationId === undefined ? undefined : this.waiting.get(decoded.correlationId);
    waiter?.(decoded.error ? { err: decoded.error, isDisposed: true } : (decoded.packet as WritePacket));
  }

  /** Encodes and adds one entry (the transport's wire format); returns its id. */
  private write(pattern: string, value: unknown, request: boolean, fields?: RequestFields): string {
    const { stream, fields: args, record } = this.encodeEvent(pattern, value, request, fields);
    const id = this.broker.xadd(stream, args);
    this.emitted.push({ ...record, id });
    return id;
  }

  private encodeEvent(pattern: string, value: unknown, request: boolean, fields?: RequestFields) {
    const { data, headers = {}, partitionKey } = unwrapRecord(value);
    const stream = request ? this.keys.stream(pattern) : this.streamFor(pattern, partitionKey);
    const args = encode(
      { data, headers, correlationId: fields?.correlationId ?? randomUUID(), replyTo: fields?.replyTo, deadline: fields?.deadline },
      [],
      this.options.serializer,
    );
    return { stream, fields: args.map(String), record: { pattern, stream, data, headers, partitionKey, request } };
  }

  /** As the real client: by partition key, round-robin without one; a key for an unpartitioned pattern is an error. */
  private streamFor(pattern: string, partitionKey: string | undefined): string {
    const recorded = this.broker.partitionCounts.get(this.keys.partitionCount(pattern));
    const configured = this.options.partitions[pattern];
    if (recorded !== undefined && configured !== undefined && recorded !== configured) {
      throw new PartitionError(`emit("${pattern}"): the client has partitions: ${configured}, but ${recorded} are recorded at ${this.keys.partitionCount(pattern)}`);
    }
    const count = recorded ?? configured ?? 0;
    if (count > 0) {
      if (partitionKey !== undefined) return this.keys.partition(pattern, partitionOf(partitionKey, count));
      const next = this.roundRobin.get(pattern) ?? 0;
      this.roundRobin.set(pattern, next + 1);
      return this.keys.partition(pattern, next % count);
    }
    if (partitionKey === undefined) return this.keys.stream(pattern);
    throw new PartitionError(
      `emit("${pattern}"): the event has a partition key, but "${pattern}" has no partitions (no consumer recorded a count at ${this.keys.partitionCount(pattern)}): ` +
        `declare @EventPattern('${pattern}', { partitions: n }) on its consumers and start one, or give the client partitions: { '${pattern}': n }, or drop setPartitionKey()`,
    );
  }
}

interface RequestFields {
  correlationId: string;
  replyTo: string;
  deadline: number;
}

function unwrapRecord(value: unknown): { data: unknown; headers?: Record<string, string>; timeoutMs?: number; partitionKey?: string } {
  if (value instanceof RedisStreamRecord) {
    return { data: value.data, headers: value.headers, timeoutMs: value.options.timeoutMs, partitionKey: value.options.partitionKey };
  }
  return { data: value };
}
