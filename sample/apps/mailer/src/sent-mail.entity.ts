import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A mail the SMTP server accepted. The key (`welcome/<user id>`, `order/<order id>`) is unique: sent once. */
@Entity({ name: 'sent_mails' })
export class SentMail {
  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  recipient!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ name: 'message_id', type: 'text' })
  messageId!: string;

  /** The stream entry the mail was sent for, and on which delivery of it (1 = first; more = retried). */
  @Column({ name: 'entry_id', type: 'text' })
  entryId!: string;

  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ name: 'sent_at', type: 'timestamptz' })
  sentAt!: Date;
}
