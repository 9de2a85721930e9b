import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1767225600000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users.users (
        id            uuid PRIMARY KEY,
        email         text NOT NULL UNIQUE,
        name          text NOT NULL,
        registered_at timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE users.outbox (
        id         bigserial PRIMARY KEY,
        pattern    text NOT NULL,
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE users.outbox');
    await db.query('DROP TABLE users.users');
  }
}
