import { brand } from '../brand.js';

/** Idempotency keys are part of a Redis key name each: long enough for any business key, bounded all the same. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 512;

/** Per-message settings of a record. */
export interface RedisStreamRecordOptions {
  /** send() only: this request's reply timeout. */
  timeoutMs?: number;
  /** emit() / emitMany() to a partitioned pattern: what picks the partition. */
  partitionKey?: string;
  /** emit() / emitMany(): a second emit with this key within the client's idempotencyWindowMs adds nothing. */
  idempotencyKey?: string;
  /** emit() / emitMany(): when the event enters its stream (see setDelay(), setDeliverAt()). */
  schedule?: { delayMs: number } | { at: number };
}

/** Data plus per-message settings, built by RedisStreamRecordBuilder and passed to emit()/send(). */
export class RedisStreamRecord<T = unknown> {
  static {
    brand(this, 'RedisStreamRecord');
  }

  constructor(
    readonly data: T,
    readonly headers: Record<string, string> = {},
    readonly options: RedisStreamRecordOptions = {},
  ) {}
}

/**
 * In the spirit of Nest's RmqRecordBuilder:
 * `client.emit('orders.created', new RedisStreamRecordBuilder(order).setHeaders({ tenant: 'a' }).build())`.
 */
export class RedisStreamRecordBuilder<T = unknown> {
  private headers: Record<string, string> = {};
  private options: RedisStreamRecordOptions = {};

  constructor(private data?: T) {}

  setData(data: T): this {
    this.data = data;
    return this;
  }

  /** String headers, readable with ctx.getHeaders(). */
  setHeaders(headers: Record<string, string>): this {
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v !== 'string') throw new TypeError(`Header "${k}" must be a string, got ${typeof v}`);
    }
    this.headers = { ...this.headers, ...headers };
    return this;
  }

  /** send() only: this request's reply timeout, overriding requestTimeoutMs. */
  setTimeout(ms: number): this {
    if (!Number.isInteger(ms) || ms < 1) throw new TypeError(`timeout must be an integer >= 1 ms, got ${ms}`);
    this.options = { ...this.options, timeoutMs: ms };
    return this;
  }

  /**
   * emit() / emitMany() to a partitioned pattern (`@EventPattern(p, { partitions })`): entries with the same key
   * go to the same partition, in the order emitted (with `ordered: true` on the consumers, they run in that
   * order). A number counts as its decimal string (`42` and `'42'` are the same key). An error for a pattern
   * without partitions, and for send().
   */
  setPartitionKey(key: string | number): this {
    const valid = typeof key === 'string' ? key.length > 0 : typeof key === 'number' && Number.isFinite(key);
    if (!valid) throw new TypeError(`partition key must be a non-empty string or a finite number, got ${typeof key === 'string' ? '""' : String(key)}`);
    this.options = { ...this.options, partitionKey: String(key) };
    return this;
  }

  /**
   * emit() / emitMany(): an emit with a key already written to the same stream within the client's
   * `idempotencyWindowMs` adds nothing and resolves with the first entry's id, atomically (one script with the
   * XADD), whichever producer wrote first. The client also sends such an emit again by itself when the
   * connection was lost before Redis answered, which is safe only because of the key. Use a business key (an
   * order id plus what happened to it), not a random one. An error for send().
   */
  setIdempotencyKey(key: string): this {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw new TypeError(`idempotency key must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`);
    }
    this.options = { ...this.options, idempotencyKey: key };
    return this;
  }

  /**
   * emit() / emitMany(): the event enters its stream `ms` from now (on Redis's clock), not before. The emit
   * resolves once the event is stored in Redis, with its schedule id (`client.cancelScheduled()` takes it), not an
   * entry id; a consumer of the stream moves it in when due, exactly once. An error for send().
   */
  setDelay(ms: number): this {
    if (!Number.isInteger(ms) || ms < 0) throw new TypeError(`delay must be an integer >= 0 ms, got ${ms}`);
    this.options = { ...this.options, schedule: { delayMs: ms } };
    return this;
  }

  /** As setDelay(), at a point in time (compared with Redis's clock). A time in the past is due at once. */
  setDeliverAt(at: Date | number): this {
    const ms = at instanceof Date ? at.getTime() : at;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TypeError(`deliverAt must be a Date or ms since the epoch, got ${String(at)}`);
    this.options = { ...this.options, schedule: { at: Math.floor(ms) } };
    return this;
  }

  build(): RedisStreamRecord<T> {
    return new RedisStreamRecord(this.data as T, this.headers, this.options);
  }
}
