import type { Page } from 'playwright-core';
import { useRedis } from '../harness/fixture.js';
import { useBoardInChromium } from './board-in-chromium.js';
import { addDeadLetter } from '../cli/known-state.js';
import { startBoard } from './board-http.js';

const fx = useRedis();
const chromium = useBoardInChromium(fx);
const { open } = chromium;

const cellTexts = (page: Page, selector: string) => page.locator(selector).locator('td').allTextContents();

describe('the board in Chromium', () => {
  it('shows the overview of a known Redis state, and refreshes it without reloading the page', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const page = await open(board.url);
    const orders = page.locator('tr.stream[data-stream="orders.created"]');
    await orders.waitFor();
    expect((await cellTexts(page, 'tr.stream[data-stream="orders.created"]')).slice(0, 6)).toEqual(['orders.created', '3', '', '1', '1', '3']);
    expect(await page.locator('tr.group').allTextContents()).toEqual([
      expect.stringMatching(/^notification\s*0\s*0\s*1/),
      expect.stringMatching(/^audit\s*3\s*0\s*0/),
      expect.stringMatching(/^billing\s*1\s*1\s*1/),
    ]);
    await expect(page.locator('#summary').textContent()).resolves.toBe('2 streams, 3 dead letters; 1 reply streams of request-reply clients not shown');
    await chromium.browser.screenshot(page, 'board-overview.png');

    await page.evaluate('window.__sameDocument = true');
    await fx.redis.client().xadd('orders.created', '*', 'data', '{"id":4}');
    await page.locator('tr.stream[data-stream="orders.created"] td:nth-child(2)', { hasText: '4' }).waitFor();
    expect(await page.evaluate('window.__sameDocument')).toBe(true);

    await page.fill('#filter', 'invent');
    expect(await page.locator('tr.stream').count()).toBe(1);
    expect(await page.evaluate('window.__violations')).toEqual([]);
  });

  it('shows a dead letter and redrives it by clicking', async () => {
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const page = await open(board.url);
    await page.locator('tr.stream[data-stream="orders.created"] a.hot').click();
    const row = page.locator('tr[data-id="1700000100000-0"]');
    await row.waitFor();
    expect(await row.locator('td.error').textContent()).toBe('Error: warehouse south offline');
    await row.getByRole('button', { name: 'Show' }).click();
    await expect(page.locator('tr.detail:not([hidden]) pre.payload').textContent()).resolves.toBe(JSON.stringify({ id: 7, sku: 'gizmo', customer: 'ivy' }, null, 2));
    await row.getByRole('checkbox').check();
    await chromium.browser.screenshot(page, 'board-dead-letters.png');
    await page.getByRole('button', { name: 'Redrive selected (1)' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain('Every group of orders.created gets the redriven entries: audit, billing');
    await dialog.getByRole('button', { name: 'Redrive' }).click();
    await page.locator('#dl-message', { hasText: 'Redriven: 1 moved back to orders.created.' }).waitFor();
    expect(await page.locator('tr[data-id="1700000100000-0"]').count()).toBe(0);

    const redis = fx.redis.client();
    expect(await redis.xlen('orders.created:dlq')).toBe(2);
    const [[, fields]] = (await redis.xrevrange('orders.created', '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    expect(fields).toEqual(expect.arrayContaining(['data', '{"id":7,"sku":"gizmo","customer":"ivy"}', 'redrive.count', '1', 'redrive.from', '1700000100000-0']));
  });

  it('redrives every dead letter of one reason by clicking, with progress', async () => {
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const page = await open(`${board.url}#/dlq?s=orders.created`);
    await page.locator('tr[data-id="1700000300000-0"]').waitFor();
    await page.getByLabel('Reason').fill('max-attempts');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('tr[data-id="1700000200000-0"]').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Redrive all "max-attempts"' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Redrive' }).click();
    await page.locator('#dl-message', { hasText: 'Redriven: 2 moved back to orders.created, 1 skipped (other reason).' }).waitFor();
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(1);
  });

  it('purges only once the stream name is typed', async () => {
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const page = await open(`${board.url}#/dlq?s=orders.created`);
    await page.locator('tr[data-id="1700000300000-0"]').waitFor();
    await page.getByRole('button', { name: 'Purge…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain('This deletes 3 dead letter(s) of orders.created, up to 1700000300000-0, for good.');
    const purge = dialog.getByRole('button', { name: 'Purge' });
    expect(await purge.isDisabled()).toBe(true);
    await dialog.getByLabel('Type orders.created to confirm').fill('orders');
    expect(await purge.isDisabled()).toBe(true);
    await chromium.browser.screenshot(page, 'board-purge-confirm.png');
    await dialog.getByLabel('Type orders.created to confirm').fill('orders.created');
    await purge.click();
    await page.locator('#dl-message', { hasText: 'Purged 3 dead letter(s).' }).waitFor();
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(0);
  });

  it('renders crafted markup in errors, payloads and names as text: no element made, no script run', async () => {
    const redis = fx.redis.client();
    const attack = `<img src=x onerror="window.__pwned=1"></script><script>window.__pwned=2</script>`;
    await addDeadLetter(redis, 'orders.created', '1700000400000-0', { data: JSON.stringify({ note: attack }), cid: 'c-x', h: JSON.stringify({ x: attack }) }, {
      sourceId: '1699999990003-0', reason: 'max-attempts', attempts: 2, error: ['<b>Error</b>', attack], consumer: '<svg onload="window.__pwned=3">',
    });
    await redis.xadd('orders.created', '1700000500000-0', 'data', JSON.stringify(attack), 'cid', '</script><img src=x onerror=window.__pwned=4>');
    await redis.xgroup('CREATE', 'orders.created', '<img src=x onerror=window.__pwned=5>', '0');
    await redis.xadd('<img src=x onerror=window.__pwned=6>', '*', 'data', '{}');
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });

    const page = await open(board.url);
    await page.locator('tr.stream[data-stream="<img src=x onerror=window.__pwned=6>"]').waitFor();
    await page.locator('tr.group', { hasText: '<img src=x onerror=window.__pwned=5>' }).waitFor();

    await page.goto(`${board.url}#/dlq?s=orders.created`);
    const row = page.locator('tr[data-id="1700000400000-0"]');
    await row.waitFor();
    expect(await row.locator('td.error').textContent()).toBe(`<b>Error</b>: ${attack}`);
    await row.getByRole('button', { name: 'Show' }).click();
    await expect(page.locator('tr.detail:not([hidden]) pre.payload').textContent()).resolves.toBe(JSON.stringify({ note: attack }, null, 2));

    await page.goto(`${board.url}#/stream?s=orders.created`);
    await page.locator('#entries tr[data-id="1700000500000-0"]').waitFor();
    expect(await page.locator('#entries tr[data-id="1700000500000-0"] td').nth(2).textContent()).toBe('</script><img src=x onerror=window.__pwned=4>');
    await chromium.browser.screenshot(page, 'board-crafted-markup.png');

    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main img, main script, main b, main svg:not(.spark)').count()).toBe(0);
    // Nothing reached the point where the Content-Security-Policy had to stop it.
    expect(await page.evaluate('window.__violations')).toEqual([]);
  });

  it('offers no write action on a read-only board', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const page = await open(`${board.url}#/dlq?s=orders.created`);
    await page.locator('tr[data-id="1700000300000-0"]').waitFor();
    expect(await page.locator('#mode').textContent()).toBe('read-only');
    expect(await page.getByRole('button', { name: /Redrive|Purge/ }).count()).toBe(0);
    await expect(page.getByText('Read-only board: redrive and purge need a board started with writes allowed.').count()).resolves.toBe(1);
  });

  it('prunes idle consumers by clicking, never one with pending entries', async () => {
    await fx.redis.client().xgroup('CREATECONSUMER', 'orders.created', 'billing', 'worker-old');
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const page = await open(`${board.url}#/group?s=orders.created&g=billing`);
    await page.locator('td', { hasText: 'worker-old' }).waitFor();
    await page.getByLabel('Remove consumers idle at least (30s, 15m, 1h, 7d)').fill('0s');
    await page.getByRole('button', { name: 'Prune consumers' }).click();
    await page.getByText('Removed 1 consumer(s); kept 1 idle one(s) holding pending entries; 0 active.').waitFor();
    const consumers = (await fx.redis.client().xinfo('CONSUMERS', 'orders.created', 'billing')) as unknown[][];
    expect(consumers.map(c => c[1])).toEqual(['worker-1']);
  });

  it("shows a group's consumers and pending list, and follows a stream live", async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const page = await open(`${board.url}#/group?s=orders.created&g=billing`);
    await page.locator('td.id', { hasText: '1700000000001-0' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('1 pending in all; lag 1; last delivered 1700000000001-0');
    await chromium.browser.screenshot(page, 'board-group.png');
    await page.goto(`${board.url}#/stream?s=orders.created`);
    await page.getByRole('button', { name: 'Follow live' }).click();
    await page.getByText('following: new entries appear at the top').waitFor();
    await fx.redis.client().xadd('orders.created', '1800000000000-0', 'data', '{"live":true}', 'cid', 'c-live');
    await page.locator('#tail tr[data-id="1800000000000-0"]').waitFor();
    await chromium.browser.screenshot(page, 'board-stream.png');
  });
});
