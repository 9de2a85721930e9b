import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The inventory's decision on one order. The primary key on `order_id` makes deciding idempotent: an order delivered
 * again finds its decision here and gets the same answer, and stock is never taken twice.
 */
@Entity({ name: 'reservations' })
export class Reservation {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ type: 'text' })
  sku!: string;

  @Column({ type: 'integer' })
  quantity!: number;

  @Column({ type: 'text' })
  outcome!: 'reserved' | 'rejected';

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** On which delivery of the order entry the decision was taken (1 = first). */
  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ name: 'decided_at', type: 'timestamptz' })
  decidedAt!: Date;
}
