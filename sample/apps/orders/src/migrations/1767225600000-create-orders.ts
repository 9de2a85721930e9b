import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOrders1767225600000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE orders.orders (
        id             uuid PRIMARY KEY,
        customer_email text NOT NULL,
        sku            text NOT NULL,
        quantity       integer NOT NULL CHECK (quantity > 0),
        status         text NOT NULL CHECK (status IN ('placed', 'confirmed', 'rejected', 'failed')),
        reason         text,
        placed_at      timestamptz NOT NULL,
        settled_at     timestamptz
      )`);
    await db.query(`
      CREATE TABLE orders.outbox (
        id         bigserial PRIMARY KEY,
        pattern    text NOT NULL,
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE orders.outbox');
    await db.query('DROP TABLE orders.orders');
  }
}
