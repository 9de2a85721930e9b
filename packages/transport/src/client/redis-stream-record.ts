import { brand } from '../brand.js';

/** Data plus per-message settings, built by RedisStreamRecordBuilder and passed to emit()/send(). */
export class RedisStreamRecord<T = unknown> {
  static {
    brand(this, 'RedisStreamRecord');
  }

  constructor(
    readonly data: T,
    readonly headers: Record<string, string> = {},
    readonly options: { timeoutMs?: number } = {},
  ) {}
}

/**
 * In the spirit of Nest's RmqRecordBuilder:
 * `client.emit('orders.created', new RedisStreamRecordBuilder(order).setHeaders({ tenant: 'a' }).build())`.
 */
export class RedisStreamRecordBuilder<T = unknown> {
  private headers: Record<string, string> = {};
  private options: { timeoutMs?: number } = {};

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

  build(): RedisStreamRecord<T> {
    return new RedisStreamRecord(this.data as T, this.headers, this.options);
  }
}
