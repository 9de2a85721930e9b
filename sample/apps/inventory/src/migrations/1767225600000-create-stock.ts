import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStock1767225600000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE inventory.stock (
        sku       text PRIMARY KEY,
        warehouse text NOT NULL,
        available integer NOT NULL CHECK (available >= 0)
      )`);
    await db.query(`
      CREATE TABLE inventory.reservations (
        order_id   uuid PRIMARY KEY,
        sku        text NOT NULL REFERENCES inventory.stock (sku),
        quantity   integer NOT NULL,
        outcome    text NOT NULL CHECK (outcome IN ('reserved', 'rejected')),
        reason     text,
        attempt    integer NOT NULL,
        decided_at timestamptz NOT NULL
      )`);
    // The catalogue: plenty of widgets, few gadgets (so some orders are rejected), gizmos in a second warehouse.
    await db.query(`
      INSERT INTO inventory.stock (sku, warehouse, available) VALUES
        ('widget', 'north', 100000),
        ('gadget', 'north', 1000),
        ('gizmo', 'south', 1000)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE inventory.reservations');
    await db.query('DROP TABLE inventory.stock');
  }
}
