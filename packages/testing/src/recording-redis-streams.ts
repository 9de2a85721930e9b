import { RedisStreamsClient, RedisStreamRecord, RedisStreamsServer } from '@nestream/transport';
import type { MessageHandler } from '@nestjs/microservices';
import { lastValueFrom, type Observable } from 'rxjs';
import type { EmittedRecord } from './test-bed.js';

/** A RedisStreamsServer that counts its handler calls per pattern (what `bed.calls()` reads). */
export class CountingRedisStreamsServer extends RedisStreamsServer {
  readonly calls = new Map<string, number>();

  override addHandler(pattern: unknown, callback: MessageHandler, isEventHandler?: boolean, extras?: Record<string, unknown>): void {
    const name = this.normalizePattern(pattern as string);
    const calls = this.calls;
    const counted = ((data: unknown, ctx: unknown) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return callback(data, ctx);
    }) as MessageHandler;
    super.addHandler(pattern, counted, isEventHandler, extras);
  }
}

/** A RedisStreamsClient that records what it wrote (what `bed.emitted()` reads). */
export class RecordingRedisStreamsClient extends RedisStreamsClient {
  readonly emitted: EmittedRecord[] = [];

  override emit<TResult = string, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    const sent = super.emit<TResult, TInput>(pattern, data);
    lastValueFrom(sent).then(id => this.record(pattern, data, String(id), false), () => undefined);
    return sent;
  }

  /** emitMany() calls itself again (same array) after its first partition-count lookup: record the outer call only. */
  private readonly emitting = new WeakSet<unknown[]>();

  override async emitMany(pattern: unknown, events: unknown[]): Promise<string[]> {
    if (this.emitting.has(events)) return super.emitMany(pattern, events);
    this.emitting.add(events);
    let ids: string[];
    try {
      ids = await super.emitMany(pattern, events);
    } finally {
      this.emitting.delete(events);
    }
    events.forEach((e, i) => this.record(pattern, e, ids[i], false));
    return ids;
  }

  override send<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    this.record(pattern, data, '', true);
    return super.send<TResult, TInput>(pattern, data);
  }

  private record(pattern: unknown, value: unknown, id: string, request: boolean): void {
    const name = this.normalizePattern(pattern as string);
    const record = value instanceof RedisStreamRecord ? value : undefined;
    this.emitted.push({
      pattern: name, stream: '', id, request,
      data: record ? record.data : value, headers: record?.headers ?? {}, partitionKey: record?.options.partitionKey,
    });
  }
}
