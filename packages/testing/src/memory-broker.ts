import { PartitionError } from '@nestream/transport';
import { deadLetterFields } from '@nestream/transport/internal';
import { VirtualClock } from './virtual-clock.js';
import { MemoryStream, type StoredEntry } from './memory-stream.js';

/**
 * What the broker asks of each in-memory server: whether work is under way, and to look for new entries. (Entries
 * waiting for a slot start when a running attempt ends, so "nothing in flight" means nothing waits for a slot.)
 */
export interface BrokerConsumer {
  /** Attempts running now (their promises settle when the attempt and its settlement are done). */
  inFlight(): Promise<unknown>[];
  /** New entries were added to one of these streams. */
  wake(stream: string): void;
}

/** A dead letter's fields, as the real dead-letter move writes them. */
export interface DeadLetterWrite {
  stream: string;
  id: string;
  group: string;
  consumer: string;
  attempts: number;
  reason: string;
  error: { name: string; message: string };
}

/**
 * The in-memory Redis of a test bed: streams with consumer groups and pending lists, partition counts, reply
 * streams, dead-letter streams, all on the bed's virtual clock. Holds state only: the servers run the
 * transport's own attempt and failure-policy code against it.
 */
export class MemoryBroker {
  readonly clock: VirtualClock;
  readonly streams = new Map<string, MemoryStream>();
  /** Partition counts recorded by servers at listen(), by count key. */
  readonly partitionCounts = new Map<string, number>();
  /** Rate limits (extras `rateLimit`), by key: when each bucket is full again (virtual ms). */
  readonly rateLimits = new Map<string, number>();
  /** Attempts waiting for their rate limit's turn on the clock: drain() moves the clock for them. */
  rateLimitWaits = 0;
  readonly consumers = new Set<BrokerConsumer>();
  private readonly replyReaders = new Map<string, (fields: string[]) => void>();
  private lastMs = 0;
  private seq = 0;
  /** Bumped on every change: `advance()` runs until it stops moving. */
  activity = 0;

  constructor(clock = new VirtualClock()) {
    this.clock = clock;
  }

  stream(key: string): MemoryStream {
    let s = this.streams.get(key);
    if (!s) this.streams.set(key, (s = new MemoryStream()));
    return s;
  }

  /** XADD <key> * ...fields: returns the new id; the servers reading the stream are woken. */
  xadd(key: string, fields: string[]): string {
    return this.xaddMany(key, [fields])[0];
  }

  /** Several entries added at once (emitMany's script), then the readers woken: a batch handler gets them together. */
  xaddMany(key: string, entries: string[][]): string[] {
    const replyReader = this.replyReaders.get(key);
    const stream = this.stream(key);
    const ids = entries.map(fields => {
      const id = this.nextId();
      stream.add({ id, fields });
      replyReader?.(fields);
      return id;
    });
    this.activity++;
    for (const c of this.consumers) c.wake(key);
    return ids;
  }

  /** A client's reply stream: every reply written to it is handed to `read`. */
  readReplies(key: string, read: (fields: string[]) => void): () => void {
    this.replyReaders.set(key, read);
    return () => this.replyReaders.delete(key);
  }

  /**
   * Records a partitioned pattern's count, as listen() does (`SET ... NX`): another count recorded is a
   * PartitionError, as on Redis.
   */
  recordPartitions(countKey: string, pattern: string, count: number): void {
    const recorded = this.partitionCounts.get(countKey);
    if (recorded !== undefined && recorded !== count) {
      throw new PartitionError(`@EventPattern('${pattern}') has ${count} partitions, but ${recorded} are recorded at ${countKey}`);
    }
    this.partitionCounts.set(countKey, count);
  }

  /** The dead-letter move: the entry's fields byte for byte plus the `dlq.*` fields, then the ack. */
  deadLetter(deadLetterKey: string | false, record: DeadLetterWrite): void {
    const source = this.streams.get(record.stream);
    const entry = source?.get(record.id);
    source?.ack(record.group, record.id);
    this.activity++;
    if (deadLetterKey === false || !entry) return;
    this.xadd(deadLetterKey, [...entry.fields, ...deadLetterFields(record, new Date(this.clock.now()))]);
  }

  entries(key: string): StoredEntry[] {
    return this.streams.get(key)?.entries ?? [];
  }

  /** Ids from the virtual clock, increasing like Redis's `<ms>-<seq>`. */
  private nextId(): string {
    const ms = this.clock.now();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.seq = 0;
    } else {
      this.seq++;
    }
    return `${this.lastMs}-${this.seq}`;
  }
}
