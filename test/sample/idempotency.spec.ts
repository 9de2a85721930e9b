import { randomUUID } from 'node:crypto';
import { SmtpSink } from '../../sample/tools/smtp-sink.js';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait.js';
import { embeddedPostgres, SampleServices, type TestDatabase } from './sample-system.js';

/**
 * Delivery is at least once: the handlers of the sample are written so that a second delivery of the same entry
 * changes nothing. Shown for real: an entry is handled, then `XGROUP SETID <stream> <group> 0` makes Redis deliver
 * the very same entry (same id, same payload) to the same group again.
 */
describe('the sample handlers, given the same entry twice (embedded Postgres)', () => {
  let redis: TestRedis;
  let database: TestDatabase;
  let smtp: SmtpSink;
  let services: SampleServices;

  beforeAll(async () => {
    redis = await startRedis();
    smtp = await SmtpSink.start();
    database = await embeddedPostgres();
    services = new SampleServices({ REDIS_URL: redis.url, DATABASE_URL: database.url, SMTP_URL: smtp.url });
    await services.start({ name: 'accounts', app: 'accounts' }, { name: 'mailer', app: 'mailer' }, { name: 'inventory', app: 'inventory' });
  }, 60_000);

  afterAll(async () => {
    await services?.stop();
    await Promise.all([smtp?.stop(), database?.drop(), redis?.stop()]);
  });

  /** Entries of `stream` delivered to `group` so far, and how many it has pending. */
  async function group(stream: string, name: string): Promise<{ lastDelivered: string; pending: number }> {
    const rows = (await redis.client().xinfo('GROUPS', stream)) as unknown[][];
    const row = rows.map(r => Object.fromEntries(Array.from({ length: r.length / 2 }, (_, i) => [r[2 * i], r[2 * i + 1]]))).find(g => g.name === name)!;
    return { lastDelivered: String(row['last-delivered-id']), pending: Number(row.pending) };
  }

  /** Waits until `group` has delivered (and acked) entry `id` of `stream`, then makes Redis deliver it once more. */
  async function deliverAgain(stream: string, name: string, id: string): Promise<void> {
    await waitFor(async () => {
      const g = await group(stream, name);
      return g.lastDelivered === id && g.pending === 0;
    }, `${name} to handle ${id}`);
    await redis.client().xgroup('SETID', stream, name, '0');
    await waitFor(async () => (await group(stream, name)).lastDelivered === id, `${name} to read ${id} again`);
  }

  const saidTwice = (service: string, text: string) => services.lines(service).some(line => line.includes(text));

  it('user.registered: one account with one welcome credit, one welcome e-mail', async () => {
    const userId = randomUUID();
    const email = `twice-${userId.slice(0, 8)}@example.com`;
    const event = { userId, email, name: 'Twice', registeredAt: new Date().toISOString() };
    const id = (await redis.client().xadd('user.registered', '*', 'data', JSON.stringify(event)))!;

    await deliverAgain('user.registered', 'accounts', id);
    await deliverAgain('user.registered', 'mailer', id);
    await waitFor(() => saidTwice('accounts', `entry ${id} changed nothing`), 'accounts to handle the second delivery');
    await waitFor(() => saidTwice('mailer', `entry ${id} changed nothing`), 'the mailer to handle the second delivery');

    const accounts = await database.pool.query('SELECT credit_cents, opened_by_entry FROM accounts.accounts WHERE user_id = $1', [userId]);
    expect(accounts.rows).toEqual([{ credit_cents: 500, opened_by_entry: id }]);
    expect(smtp.mailsTo(email)).toHaveLength(1);
    expect((await group('user.registered', 'accounts')).pending).toBe(0);
    expect((await group('user.registered', 'mailer')).pending).toBe(0);
  });

  it('order.placed: one reservation, stock taken once, the same decision published again', async () => {
    const orderId = randomUUID();
    const stockOf = async () => (await database.pool.query("SELECT available FROM inventory.stock WHERE sku = 'widget'")).rows[0].available as number;
    const before = await stockOf();
    const event = { orderId, customerEmail: 'buyer@example.com', sku: 'widget', quantity: 3, placedAt: new Date().toISOString() };
    const id = (await redis.client().xadd('order.placed', '*', 'data', JSON.stringify(event)))!;

    await deliverAgain('order.placed', 'inventory', id);
    await waitFor(() => saidTwice('inventory', `order ${orderId}: decided before (reserved)`), 'the inventory to handle the second delivery');
    await waitFor(async () => (await group('order.placed', 'inventory')).pending === 0, 'the second delivery to be acked');

    const reservations = await database.pool.query('SELECT outcome, quantity FROM inventory.reservations WHERE order_id = $1', [orderId]);
    expect(reservations.rows).toEqual([{ outcome: 'reserved', quantity: 3 }]);
    expect(await stockOf()).toBe(before - 3);
    // Each delivery published the decision; the orders service settles an order once whatever it is told twice.
    const published = (await redis.client().xrange('inventory.reserved', '-', '+')).filter(([, f]) => f.join(' ').includes(orderId));
    expect(published).toHaveLength(2);
  });
});
