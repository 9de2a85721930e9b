import { RedisStreamRecordBuilder } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { useBoardInChromium } from './board-in-chromium.js';
import { startBoard } from './board-http.js';
import { emitLater, HOUR, scheduledIds } from './scheduled-emits.js';

// Delayed emits on the board in a browser: a user opens the stream, sees what is scheduled and when, cancels
// (only on a board with writes allowed); attacker-controlled schedules render as text.

const fx = useRedis();
const chromium = useBoardInChromium(fx);
const { open } = chromium;

describe('delayed emits on the board, in Chromium', () => {
  it('shows a stream\'s scheduled emit with its due time, and cancels it by clicking', async () => {
    const soon = await emitLater(fx, 'orders.created', { id: 10, sku: 'widget' }, 5 * 60_000, { tenant: 'acme' });
    const later = await emitLater(fx, 'orders.created', { id: 11 }, 3 * HOUR);
    const overdue = await lastValueFrom(fx.client().emit<string>('orders.created', new RedisStreamRecordBuilder({ id: 9 }).setDeliverAt(Date.now() - 120_000).build()));
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const page = await open(board.url);

    const count = page.locator('tr.stream[data-stream="orders.created"] td.scheduled');
    await count.waitFor();
    expect(await count.textContent()).toBe('3');
    await page.locator('tr.stream[data-stream="orders.created"]').getByRole('link', { name: 'orders.created' }).click();
    await page.getByRole('link', { name: '3 delayed emit(s) scheduled' }).click();

    const row = page.locator(`#scheduled tr[data-id="${soon}"]`);
    await row.waitFor();
    const dueAt = Number((await fx.redis.client().zscore('{orders.created}:scheduled', soon))!);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual([soon, new Date(dueAt).toISOString().replace('T', ' ').replace('Z', ''), 'in 5 min', 'orders.created']);
    expect(await row.locator('pre.payload').textContent()).toBe(JSON.stringify({ id: 10, sku: 'widget' }, null, 2));
    expect(await row.locator('pre.headers').textContent()).toBe(JSON.stringify({ tenant: 'acme' }, null, 2));
    expect(await page.locator('#scheduled tr').evaluateAll(rows => rows.map(r => r.getAttribute('data-id')))).toEqual([overdue, soon, later]);
    expect(await page.locator(`#scheduled tr[data-id="${overdue}"] td.due-in`).textContent()).toMatch(/^overdue by (2 min|1\d\d s)$/);
    expect(await page.locator(`#scheduled tr[data-id="${later}"] td.due-in`).textContent()).toMatch(/^in (3 h 0 min|2 h 59 min)$/);
    await chromium.browser.screenshot(page, 'board-scheduled.png');

    await row.getByRole('button', { name: 'Cancel' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain('It will not enter orders.created. This cannot be undone.');
    await dialog.getByRole('button', { name: 'Cancel the emit' }).click();
    await page.locator('#sched-message', { hasText: 'Cancelled 1 delayed emit(s).' }).waitFor();
    expect(await row.count()).toBe(0);
    expect(await scheduledIds(fx, 'orders.created')).toEqual(expect.not.arrayContaining([soon]));
    expect((await scheduledIds(fx, 'orders.created')).sort()).toEqual([overdue, later].sort());

    // Selected, then moved into the stream (here: cancelled elsewhere) before the click: the page says so.
    await page.locator(`#scheduled tr[data-id="${later}"]`).getByRole('checkbox').check();
    await page.locator(`#scheduled tr[data-id="${overdue}"]`).getByRole('checkbox').check();
    await fx.redis.client().zrem('{orders.created}:scheduled', overdue);
    await page.getByRole('button', { name: 'Cancel selected (2)' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel the emits' }).click();
    await page.locator('#sched-message', { hasText: `Cancelled 1 delayed emit(s). Not waiting any more (entered orders.created already, cancelled before, or never scheduled): ${overdue}.` }).waitFor();
    expect(await page.locator('#sched-message').getAttribute('role')).toBe('alert');
    expect(await scheduledIds(fx, 'orders.created')).toEqual([]);
    await page.getByText('No delayed emits waiting.').waitFor();
    expect(await page.evaluate('window.__violations')).toEqual([]);
  });

  it('offers no cancel on a read-only board, and its API refuses the POST', async () => {
    const id = await emitLater(fx, 'orders.created', { id: 10 }, HOUR);
    const board = await startBoard({ connection: fx.redis.url });
    const page = await open(`${board.url}#/scheduled?s=orders.created`);
    await page.locator(`#scheduled tr[data-id="${id}"]`).waitFor();
    expect(await page.getByRole('button', { name: /Cancel/ }).count()).toBe(0);
    expect(await page.getByRole('checkbox').count()).toBe(0);
    await page.getByText('Read-only board: cancelling delayed emits needs a board started with writes allowed.').waitFor();
    // The page's own token cannot make the read-only board write either.
    const token = await page.locator('meta[name="nestream-board-csrf"]').getAttribute('content');
    const status = await page.evaluate(`fetch('api/cancel-scheduled', { method: 'POST', headers: { 'content-type': 'application/json', 'x-nestream-csrf': ${JSON.stringify(token)} },
      body: JSON.stringify({ stream: 'orders.created', ids: [${JSON.stringify(id)}] }) }).then(r => r.status)`);
    expect(status).toBe(403);
    expect(await scheduledIds(fx, 'orders.created')).toEqual([id]);
  });

  it('renders crafted markup in schedule ids, payloads and headers as text: no element made, no script run', async () => {
    const redis = fx.redis.client();
    const attack = `<img src=x onerror="window.__pwned=1"></script><script>window.__pwned=2</script>`;
    const id = `sched-<img src=x onerror=window.__pwned=3>`;
    // As schedule-2.lua stores it: the fields by id, the id by due time.
    await redis.hset('{orders.created}:scheduled:entries', id, JSON.stringify(['data', JSON.stringify({ note: attack }), 'cid', '<svg onload="window.__pwned=4">', 'h', JSON.stringify({ x: attack })]));
    await redis.zadd('{orders.created}:scheduled', Date.now() + HOUR, id);
    await redis.hset('{orders.created}:scheduled:entries', 'sched-raw', JSON.stringify(['data', attack]));
    await redis.zadd('{orders.created}:scheduled', Date.now() + 2 * HOUR, 'sched-raw');
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });

    const page = await open(`${board.url}#/scheduled?s=orders.created`);
    const row = page.locator('#scheduled tr').first();
    await row.waitFor();
    expect(await row.getAttribute('data-id')).toBe(id);
    expect(await row.locator('td.id').textContent()).toBe(id);
    expect(await row.locator('td').nth(5).textContent()).toBe('<svg onload="window.__pwned=4">');
    expect(await row.locator('pre.payload').textContent()).toBe(JSON.stringify({ note: attack }, null, 2));
    expect(await row.locator('pre.headers').textContent()).toBe(JSON.stringify({ x: attack }, null, 2));
    await page.locator('#scheduled tr[data-id="sched-raw"]', { hasText: 'undecodable' }).waitFor();
    await chromium.browser.screenshot(page, 'board-scheduled-crafted.png');

    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main img, main script, main svg:not(.spark)').count()).toBe(0);
    expect(await page.evaluate('window.__violations')).toEqual([]);
  });
});
