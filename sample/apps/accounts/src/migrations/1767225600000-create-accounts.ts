import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccounts1767225600000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE accounts.accounts (
        user_id         uuid PRIMARY KEY,
        email           text NOT NULL,
        credit_cents    integer NOT NULL,
        opened_at       timestamptz NOT NULL,
        opened_by_entry text NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE accounts.accounts');
  }
}
