import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSentMails1767225600000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE mailer.sent_mails (
        key        text PRIMARY KEY,
        recipient  text NOT NULL,
        subject    text NOT NULL,
        message_id text NOT NULL,
        entry_id   text NOT NULL,
        attempt    integer NOT NULL,
        sent_at    timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE mailer.sent_mails');
  }
}
