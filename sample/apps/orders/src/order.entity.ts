import type { OrderFinalState } from '@sample/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export type OrderStatus = 'placed' | OrderFinalState;

@Entity({ name: 'orders' })
export class Order {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'customer_email', type: 'text' })
  customerEmail!: string;

  @Column({ type: 'text' })
  sku!: string;

  @Column({ type: 'integer' })
  quantity!: number;

  /** `placed`, then exactly one of `confirmed`, `rejected` (no stock) or `failed` (inventory dead-lettered it). */
  @Column({ type: 'text' })
  status!: OrderStatus;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'placed_at', type: 'timestamptz' })
  placedAt!: Date;

  @Column({ name: 'settled_at', type: 'timestamptz', nullable: true })
  settledAt!: Date | null;
}
