import { BaseRpcContext } from '@nestjs/microservices';
import { SettlementError } from '../errors/settlement.error.js';
import { brand } from '../brand.js';

type RedisStreamContextArgs = [
  stream: string,
  id: string,
  group: string,
  consumer: string,
  deliveryCount: number,
  headers: Record<string, string>,
  pattern: string,
  partition?: number,
  fencingToken?: number,
  metadata?: PacketMetadata,
];

/** Nest 12's packet metadata (`PacketMetadata`, declared here too so the package still builds against Nest 11). */
export type PacketMetadata = Record<string, string>;

/** How a manual-mode handler settled its entry. */
export type Settlement =
  | { kind: 'ack' }
  | { kind: 'retry'; delayMs?: number }
  | { kind: 'deadLetter'; reason: string };

/** The `@Ctx()` of a handler called by RedisStreamsServer. */
export class RedisStreamContext extends BaseRpcContext<RedisStreamContextArgs> {
  static {
    brand(this, 'RedisStreamContext');
  }

  /** @ignore set by the transport: the manual settlement, if any. */
  settlement?: Settlement;
  /** @ignore set by the transport: the handler's real error, before Nest's exception filter replaced it. */
  handlerError?: unknown;

  constructor(args: RedisStreamContextArgs) {
    super(args);
  }

  /** The stream key the entry was read from (key prefix included; a partition's stream, `<pattern>:{i}`, if partitioned). */
  getStream(): string {
    return this.args[0];
  }

  /** The entry id, e.g. `1700000000000-0`. */
  getMessageId(): string {
    return this.args[1];
  }

  /** The consumer group. */
  getGroup(): string {
    return this.args[2];
  }

  /** This consumer's name. */
  getConsumer(): string {
    return this.args[3];
  }

  /**
   * Which delivery this is: 1 on first delivery, 2 on the first retry, ... (kept by Redis across restarts).
   * A delivery interrupted by a crash counts too, though it is not a failed attempt (retry.maxInterruptions).
   */
  getDeliveryCount(): number {
    return this.args[4];
  }

  /** Headers set by the producer (RedisStreamRecordBuilder); `{}` if none. */
  getHeaders(): Record<string, string> {
    return this.args[5];
  }

  /** The pattern the handler is bound to. */
  getPattern(): string {
    return this.args[6];
  }

  /** Of a partitioned pattern (`{ partitions }`): which partition the entry was read from (0-based); else undefined. */
  getPartition(): number | undefined {
    return this.args[7];
  }

  /**
   * Of an ordered partition (`{ partitions, ordered: true }`): the generation of this consumer's lease on the
   * partition, a number that grows each time the partition changes hands; else undefined. A handler writing
   * elsewhere can store it with what it writes and refuse a write carrying a smaller one: a call that outlived
   * its lease (a stalled process) then cannot overwrite what the partition's next owner wrote.
   */
  getFencingToken(): number | undefined {
    return this.args[8];
  }

  /**
   * The packet metadata the producer's dispatch hook attached (`client.setOnDispatchHook(p => { p.metadata = {...} })`,
   * Nest 12), as Nest's own contexts return it; undefined when the entry carries none.
   */
  getMetadata(): PacketMetadata | undefined {
    return this.args[9];
  }

  /** Manual mode: the entry is done, ack it. */
  ack(): void {
    this.settle({ kind: 'ack' });
  }

  /** Manual mode: try again after `delayMs` (default: the retry policy's backoff); counts as an attempt. */
  retry(options: { delayMs?: number } = {}): void {
    this.settle({ kind: 'retry', delayMs: options.delayMs });
  }

  /** Manual mode: move the entry to the dead-letter stream now. */
  deadLetter(reason: string): void {
    this.settle({ kind: 'deadLetter', reason });
  }

  private settle(settlement: Settlement): void {
    if (this.settlement) {
      throw new SettlementError(
        `Entry ${this.getMessageId()} of ${this.getStream()} was already settled (${this.settlement.kind}); settle it only once`,
      );
    }
    this.settlement = settlement;
  }
}
