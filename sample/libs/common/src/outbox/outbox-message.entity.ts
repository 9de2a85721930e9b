import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An event waiting to be published: written in the same transaction as the change it announces, deleted once it is
 * in its stream. Each service that publishes has its own `outbox` table, in its own schema (see its migrations).
 */
@Entity({ name: 'outbox' })
export class OutboxMessage {
  /** bigserial: the relay publishes in insertion order. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** The event pattern, i.e. the stream it goes to. */
  @Column({ type: 'text' })
  pattern!: string;

  @Column({ type: 'jsonb' })
  payload!: object;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
