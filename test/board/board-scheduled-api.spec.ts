import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { writeKnownState } from '../cli/known-state.js';
import { getJson, openSession, post, startBoard } from './board-http.js';
import { emitLater, HOUR, scheduledIds } from './scheduled-emits.js';

// Delayed emits (setDelay / setDeliverAt) in the board's API: counted in the overview, listed per stream soonest
// first, cancelled (writes only) through StreamsAdmin.cancelScheduled, as `nestream scheduled cancel` does.

const fx = useRedis();

beforeEach(async () => {
  await writeKnownState(fx.redis.client());
});

describe('delayed emits in the board API', () => {
  it('counts them per stream in the overview and on the stream, refreshed with the other figures', async () => {
    await emitLater(fx, 'orders.created', { id: 10 }, HOUR);
    const board = await startBoard({ connection: fx.redis.url });
    const counts = async () => {
      const { body } = await getJson(`${board.url}api/overview`);
      return Object.fromEntries(body.rows.map((r: { name: string; scheduled: number }) => [r.name, r.scheduled]));
    };
    expect(await counts()).toEqual({ 'inventory.reserved': 0, 'orders.created': 1 });
    await emitLater(fx, 'orders.created', { id: 11 }, HOUR);
    expect(await counts()).toEqual({ 'inventory.reserved': 0, 'orders.created': 2 });
    expect((await getJson(`${board.url}api/stream?stream=orders.created`)).body.scheduled).toBe(2);
  });

  it("says a count is unknown (null), not 0, when the board's Redis user may not read the schedule; the rest still shows", async () => {
    await emitLater(fx, 'orders.created', { id: 10 }, HOUR);
    await fx.redis.client().acl('SETUSER', 'no-zcard', 'on', '>no-zcard-secret', '~*', '&*', '+@all', '-zcard');
    const board = await startBoard({ connection: `redis://no-zcard:no-zcard-secret@127.0.0.1:${fx.redis.port}` });
    const { status, body } = await getJson(`${board.url}api/overview`);
    expect(status).toBe(200);
    expect(body.rows.map((r: { name: string; length: number; scheduled: number | null }) => [r.name, r.length, r.scheduled])).toEqual([
      ['inventory.reserved', 1, null], ['orders.created', 3, null],
    ]);
    expect((await getJson(`${board.url}api/stream?stream=orders.created`)).body).toMatchObject({ length: 3, scheduled: null });
  });

  it('lists them soonest first, decoded, with their due time, a page at a time', async () => {
    const later = await emitLater(fx, 'orders.created', { id: 12 }, 2 * HOUR);
    const soonest = await emitLater(fx, 'orders.created', { id: 10, sku: 'widget' }, HOUR / 2, { tenant: 'acme' });
    const middle = await emitLater(fx, 'orders.created', { id: 11 }, HOUR);
    const board = await startBoard({ connection: fx.redis.url });

    const first = await getJson(`${board.url}api/scheduled?stream=orders.created&count=2`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ stream: 'orders.created', total: 3, offset: 0 });
    expect(first.body.entries.map((e: { id: string }) => e.id)).toEqual([soonest, middle]);
    const [entry] = first.body.entries;
    expect(entry).toMatchObject({ key: 'orders.created', message: { data: { id: 10, sku: 'widget' }, headers: { tenant: 'acme' } }, decodeError: null });
    // Due half an hour after it was stored (Redis's clock, here the machine's too), as read at `now`.
    expect(entry.dueAt - first.body.now).toBeGreaterThan(HOUR / 2 - 60_000);
    expect(entry.dueAt - first.body.now).toBeLessThanOrEqual(HOUR / 2 + 1000);

    const second = await getJson(`${board.url}api/scheduled?stream=orders.created&count=2&offset=2`);
    expect(second.body).toMatchObject({ total: 3, offset: 2 });
    expect(second.body.entries.map((e: { id: string }) => e.id)).toEqual([later]);

    expect((await getJson(`${board.url}api/scheduled?stream=orders.created&count=501`)).body.error).toMatch(/count must be an integer from 1 to 500/);
    expect((await getJson(`${board.url}api/scheduled?stream=orders.created&offset=10001`)).status).toBe(400);
    expect((await getJson(`${board.url}api/scheduled?stream=orders.created&offset=-1`)).status).toBe(400);
    expect((await getJson(`${board.url}api/scheduled`)).status).toBe(400);
    expect((await getJson(`${board.url}api/scheduled?stream=a}b`)).status).toBe(400);
    expect((await getJson(`${board.url}api/scheduled?stream=inventory.reserved`)).body).toMatchObject({ total: 0, entries: [] });
  });

  it('refuses a cancel on a read-only board, without the CSRF token, or when authorize says no; cancels nothing then', async () => {
    const id = await emitLater(fx, 'orders.created', { id: 10 }, HOUR);
    const readOnly = await startBoard({ connection: fx.redis.url });
    const refused = await post(`${readOnly.url}api/cancel-scheduled`, await openSession(readOnly.url), { stream: 'orders.created', ids: [id] });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatch(/read-only/);

    const asked: string[] = [];
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true, authorize: (req, action) => (asked.push(action), action === 'read' || req.headers['x-operator'] === 'yes') });
    const session = await openSession(board.url);
    expect((await post(`${board.url}api/cancel-scheduled`, undefined, { stream: 'orders.created', ids: [id] })).body.error).toMatch(/missing CSRF token/);
    expect((await post(`${board.url}api/cancel-scheduled`, session, { stream: 'orders.created', ids: [id] }, { origin: 'http://evil.example' })).body.error).toMatch(/cross-origin/);
    expect((await post(`${board.url}api/cancel-scheduled`, session, { stream: 'orders.created', ids: [id] })).status).toBe(403);
    expect(asked).toEqual(['read', 'write']);
    expect(await scheduledIds(fx, 'orders.created')).toEqual([id]);

    const done = await post(`${board.url}api/cancel-scheduled`, session, { stream: 'orders.created', ids: [id] }, { 'x-operator': 'yes' });
    expect(done).toEqual({ status: 200, body: { stream: 'orders.created', cancelled: [id], notWaiting: [] } });
    expect(await scheduledIds(fx, 'orders.created')).toEqual([]);
  });

  it('cancels a selection, and says which were not waiting any more (moved into the stream, or cancelled before)', async () => {
    const stream = uniqueName('reminders');
    const moved = await emitLater(fx, stream, { n: 0 }, 0);
    @Controller()
    class Reminders {
      @EventPattern(stream)
      handle(@Payload() _: unknown) {}
    }
    fx.apps.push(await startApp([Reminders], { connection: fx.redis.url, group: 'g', consumer: 'c1', scheduler: { pollMs: 50 } }));
    await waitFor(async () => (await fx.redis.client().xlen(stream)) === 1, 'the due emit moved into its stream');
    const waiting = [await emitLater(fx, stream, { n: 1 }, HOUR), await emitLater(fx, stream, { n: 2 }, HOUR)];

    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const session = await openSession(board.url);
    const res = await post(`${board.url}api/cancel-scheduled`, session, { stream, ids: [...waiting, moved] });
    expect(res).toEqual({ status: 200, body: { stream, cancelled: waiting, notWaiting: [moved] } });
    const again = await post(`${board.url}api/cancel-scheduled`, session, { stream, ids: [waiting[0]] });
    expect(again.body).toEqual({ stream, cancelled: [], notWaiting: [waiting[0]] });
    expect(await scheduledIds(fx, stream)).toEqual([]);
    expect(await fx.redis.client().xlen(stream)).toBe(1);

    expect((await post(`${board.url}api/cancel-scheduled`, session, { stream, ids: [] })).status).toBe(400);
    expect((await post(`${board.url}api/cancel-scheduled`, session, { stream, ids: [7] })).status).toBe(400);
    expect((await post(`${board.url}api/cancel-scheduled`, session, { stream, ids: Array.from({ length: 501 }, (_, i) => `sched-${i}`) })).status).toBe(400);
  });
});

