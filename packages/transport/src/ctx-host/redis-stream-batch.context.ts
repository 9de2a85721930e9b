import { BaseRpcContext } from '@nestjs/microservices';
import { brand } from '../brand.js';
import type { PacketMetadata } from './redis-stream.context.js';

/** One entry of a batch, in the order of the payload array. */
export interface BatchEntry {
  id: string;
  deliveryCount: number;
  headers: Record<string, string>;
  /** Nest 12's packet metadata of the entry; undefined when it carries none. */
  metadata?: PacketMetadata;
}

type RedisStreamBatchContextArgs = [stream: string, group: string, consumer: string, entries: BatchEntry[], pattern: string, partition?: number];

/**
 * The `@Ctx()` of a batch handler (`@EventPattern('x', { batch: true })`), whose payload is an array.
 * Return normally to ack every entry except those marked with fail(); throw to fail them all.
 */
export class RedisStreamBatchContext extends BaseRpcContext<RedisStreamBatchContextArgs> {
  static {
    brand(this, 'RedisStreamBatchContext');
  }

  /** @ignore set by the transport: the handler's real error, before Nest's exception filter replaced it. */
  handlerError?: unknown;
  /** @ignore read by the transport: index -> error of entries marked failed. */
  readonly failures = new Map<number, unknown>();

  constructor(args: RedisStreamBatchContextArgs) {
    super(args);
  }

  getStream(): string {
    return this.args[0];
  }

  getGroup(): string {
    return this.args[1];
  }

  getConsumer(): string {
    return this.args[2];
  }

  /** Ids, delivery counts and headers, index by index with the payload array. */
  getEntries(): BatchEntry[] {
    return this.args[3];
  }

  getPattern(): string {
    return this.args[4];
  }

  /** Of a partitioned pattern (`{ partitions }`): which partition the entries were read from (0-based); else undefined. */
  getPartition(): number | undefined {
    return this.args[5];
  }

  /**
   * The packet metadata of the entry at `index` (Nest 12, set by the producer's dispatch hook); undefined when
   * it carries none. Without an index, the first entry's: what code written for single packets (a processing
   * hook, say) sees.
   */
  getMetadata(index = 0): PacketMetadata | undefined {
    return this.args[3][index]?.metadata;
  }

  /** Marks the entry at `index` as failed: it is retried (or dead-lettered) on its own; the others are acked. */
  fail(index: number, error: unknown): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.args[3].length) {
      throw new RangeError(`fail(${index}): the batch has ${this.args[3].length} entries`);
    }
    this.failures.set(index, error);
  }
}
