import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait.js';
import type { ServiceProcess } from '../../sample/demo/service-process.js';
import { embeddedPostgres, post, SampleServices, type TestDatabase } from './sample-system.js';

const ORDERS = 400;

/**
 * The orders flow with two inventory replicas in one consumer group; one of them is SIGKILLed while it holds
 * order entries, and started again under the same consumer name, while orders keep coming.
 */
describe('an inventory replica SIGKILLed mid-run and restarted under its consumer name (embedded Postgres)', () => {
  let redis: TestRedis;
  let database: TestDatabase;
  let services: SampleServices;
  let orders: ServiceProcess;
  let victim: ServiceProcess;

  beforeAll(async () => {
    redis = await startRedis();
    database = await embeddedPostgres();
    services = new SampleServices({ REDIS_URL: redis.url, DATABASE_URL: database.url });
    [orders, victim] = await services.start(
      { name: 'orders', app: 'orders' },
      { name: 'inventory-1', app: 'inventory', env: { CONSUMER_NAME: 'inventory-1' } },
      { name: 'inventory-2', app: 'inventory', env: { CONSUMER_NAME: 'inventory-2' } },
    );
  }, 60_000);

  afterAll(async () => {
    await services?.stop();
    await Promise.all([database?.drop(), redis?.stop()]);
  });

  /** Ids of the order.placed entries pending with a consumer of the inventory group. */
  async function pendingWith(consumer: string): Promise<string[]> {
    const rows = (await redis.client().xpending('order.placed', 'inventory', '-', '+', 10_000, consumer)) as Array<[string]>;
    return rows.map(([id]) => id);
  }

  it('decides every order exactly once, loses none of the killed replica\'s entries, and leaves nothing pending', async () => {
    const stockBefore = await stock();
    const ids: string[] = [];
    let killed: Promise<string[]> | undefined;
    const placeAll = async (worker: number) => {
      for (let i = worker; i < ORDERS; i += 16) {
        const { status, body } = await post<{ id: string }>(`${orders.url}/orders`, { customerEmail: `c${i}@example.com`, sku: i % 3 ? 'widget' : 'gadget', quantity: 1 + (i % 3) });
        expect(status).toBe(201);
        ids.push(body.id);
        if (ids.length === ORDERS * 0.3) killed = killWhileHolding();
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => placeAll(w)));
    const leftBehind = await killed!;

    expect(leftBehind.length).toBeGreaterThan(0);
    await waitFor(async () => (await states(ids)).placed === undefined, 'every order to be settled', 60_000);
    await waitFor(async () => ((await redis.client().xpending('order.placed', 'inventory')) as [number])[0] === 0, 'nothing pending in the inventory group');

    const settled = await states(ids);
    expect((settled.confirmed ?? 0) + (settled.rejected ?? 0)).toBe(ORDERS);
    const decisions = await database.pool.query(
      "SELECT sku, count(*)::int AS n, coalesce(sum(quantity) FILTER (WHERE outcome = 'reserved'), 0)::int AS taken FROM inventory.reservations WHERE order_id = ANY($1::uuid[]) GROUP BY sku",
      [ids],
    );
    expect(decisions.rows.reduce((n, r) => n + r.n, 0)).toBe(ORDERS);
    const stockAfter = await stock();
    for (const row of decisions.rows) expect(stockAfter.get(row.sku)).toBe(stockBefore.get(row.sku)! - row.taken);
    // The killed replica's entries: each one's order was decided and settled.
    const leftOrders = (await Promise.all(leftBehind.map(id => redis.client().xrange('order.placed', id, id)))).map(([[, f]]) => JSON.parse(f![1]!).orderId as string);
    const leftStates = await states(leftOrders);
    expect((leftStates.confirmed ?? 0) + (leftStates.rejected ?? 0)).toBe(leftBehind.length);
    const consumers = ((await redis.client().xinfo('CONSUMERS', 'order.placed', 'inventory')) as unknown[][]).map(c => String(c[1])).sort();
    expect(consumers).toEqual(['inventory-1', 'inventory-2']);
  });

  /** Waits until inventory-1 holds order entries, SIGKILLs it, restarts it; resolves with the ids it left pending. */
  async function killWhileHolding(): Promise<string[]> {
    await waitFor(async () => (await pendingWith('inventory-1')).length >= 2, 'inventory-1 to hold entries', 30_000);
    await victim.kill();
    // Still the dead consumer's: the other replica would claim them only after claim.minIdleMs (10 s); the restarted
    // one, under the same name, takes them back at once.
    const left = await pendingWith('inventory-1');
    await victim.start();
    return left;
  }

  async function states(orderIds: string[]): Promise<Record<string, number>> {
    const { rows } = await database.pool.query('SELECT status, count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) GROUP BY status', [orderIds]);
    return Object.fromEntries(rows.map(r => [r.status, r.n]));
  }

  async function stock(): Promise<Map<string, number>> {
    const { rows } = await database.pool.query('SELECT sku, available FROM inventory.stock');
    return new Map(rows.map(r => [r.sku, r.available]));
  }
});
