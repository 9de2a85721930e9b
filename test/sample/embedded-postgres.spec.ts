import pg from 'pg';
import { startEmbeddedPostgres, type Started } from '../../sample/demo/infrastructure.js';
import { sigkill, startChild } from '../harness/child.js';

/**
 * The demo's embedded Postgres (sample/tools/embedded-postgres): PGlite has one session, shared by every
 * connection. These are the two ways sharing it goes wrong, and what the server does about them.
 */
describe('the embedded Postgres', () => {
  let postgres: Started;
  const pools: pg.Pool[] = [];
  const pool = (max: number) => {
    const p = new pg.Pool({ connectionString: postgres.url, max });
    pools.push(p);
    return p;
  };

  beforeAll(async () => {
    postgres = await startEmbeddedPostgres();
    await pool(1).query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0), (2, 0)');
  });

  afterAll(async () => {
    await Promise.all(pools.map(p => p.end()));
    await postgres?.stop();
  });

  it('runs the queries and transactions of 20 concurrent connections without mixing up their messages', async () => {
    const clients = Array.from({ length: 4 }, () => pool(5));
    const wrong: string[] = [];
    await Promise.all(
      clients.flatMap((p, c) =>
        Array.from({ length: 5 }, async (_, w) => {
          for (let i = 0; i < 40; i++) {
            const value = c * 10_000 + w * 100 + i;
            // Parse, Bind, Execute and Sync of one query must not meet another connection's in the session.
            const { rows } = await p.query('SELECT $1::int AS value, $2::text AS text', [value, `v${value}`]);
            if (rows[0]?.value !== value || rows[0]?.text !== `v${value}`) wrong.push(`${value} -> ${JSON.stringify(rows[0])}`);
            const tx = await p.connect();
            try {
              await tx.query('BEGIN');
              await tx.query('UPDATE counter SET n = n + 1 WHERE id = 2');
              await tx.query('COMMIT');
            } finally {
              tx.release();
            }
          }
        }),
      ),
    );
    expect(wrong).toEqual([]);
    const { rows } = await pools[0]!.query('SELECT n FROM counter WHERE id = 2');
    expect(rows[0].n).toBe(4 * 5 * 40);
  });

  it('rolls back the open transaction of a client that was SIGKILLed, and serves the other connections again', async () => {
    const child = await startChild('pg-open-transaction.mjs', [postgres.url]);
    await sigkill(child);
    // The dead client held the session (its transaction was open): this query waits for it to be freed.
    const { rows } = await pool(1).query('SELECT n FROM counter WHERE id = 1');
    expect(rows[0].n).toBe(0);
  });
});
