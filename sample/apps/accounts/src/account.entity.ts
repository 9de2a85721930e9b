import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One account per user: the primary key on `user_id` is what makes opening it idempotent. */
@Entity({ name: 'accounts' })
export class Account {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'text' })
  email!: string;

  /** The welcome credit, granted once. */
  @Column({ name: 'credit_cents', type: 'integer' })
  creditCents!: number;

  @Column({ name: 'opened_at', type: 'timestamptz' })
  openedAt!: Date;

  /** The stream entry that opened it (for tracing; a redelivery of another entry changes nothing). */
  @Column({ name: 'opened_by_entry', type: 'text' })
  openedByEntry!: string;
}
