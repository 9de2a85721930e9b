import { RedisStreamRecordBuilder, RedisStreamsClient } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { startRedisCluster, type TestRedisCluster } from '../harness/redis-cluster.js';
import { startChromium, type TestBrowser } from '../harness/chromium.js';
import { getJson, openSession, post, startBoard } from './board-http.js';

// The board on a Redis Cluster: the overview reads every master (partitions of one pattern land on several),
// and a redrive runs in the dead-letter stream's slot.

let cluster: TestRedisCluster;
let browser: TestBrowser;
beforeAll(async () => {
  [cluster, browser] = await Promise.all([startRedisCluster({ replicasPerMaster: 0 }), startChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('the board on a Redis Cluster, in Chromium', () => {
  it("shows every master's streams, folds partitions spread over masters, and redrives by clicking", async () => {
    const redis = cluster.client();
    const masters = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const key = `clicks:{${i}}`;
      masters.add(await cluster.masterOf(key));
      await redis.xadd(key, '*', 'data', `{"n":${i}}`);
      await redis.xgroup('CREATE', key, 'stats', '$');
    }
    expect(masters.size).toBeGreaterThan(1);
    await redis.xadd('{orders}.created', '1700000000000-0', 'data', '{"id":1}');
    await redis.xgroup('CREATE', '{orders}.created', 'billing', '$');
    await redis.xadd('{orders}.created:dlq', '1700000100000-0', 'data', '{"id":7}', 'cid', 'c-7', 'dlq.stream', '{orders}.created', 'dlq.id', '1-1',
      'dlq.group', 'billing', 'dlq.consumer', 'w1', 'dlq.reason', 'max-attempts', 'dlq.attempts', '3', 'dlq.error.name', 'Error', 'dlq.error.message', 'boom');

    const board = await startBoard({ connection: cluster.connection, allowWrites: true });
    const page = await browser.page();
    await page.goto(board.url);
    const clicks = page.locator('tr.stream[data-stream="clicks"]');
    await clicks.waitFor();
    expect(await clicks.locator('td').nth(1).textContent()).toBe('6');
    await clicks.getByRole('button', { name: '6 partitions' }).click();
    expect(await page.locator('tr.partition').count()).toBe(6);
    await browser.screenshot(page, 'board-cluster-overview.png');

    await page.locator('tr.stream[data-stream="{orders}.created"] a.hot').click();
    const row = page.locator('tr[data-id="1700000100000-0"]');
    await row.waitFor();
    await row.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Redrive selected (1)' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Redrive' }).click();
    await page.locator('#dl-message', { hasText: 'Redriven: 1 moved back to {orders}.created.' }).waitFor();
    expect(await redis.xlen('{orders}.created:dlq')).toBe(0);
    expect(await redis.xlen('{orders}.created')).toBe(2);
    expect(browser.errors).toEqual([]);
  });

  it("counts, lists and cancels delayed emits of streams on every master (each schedule in its stream's slot)", async () => {
    const redis = cluster.client();
    const streams = [...(await cluster.keysOnEveryMaster(i => `later${i}.reminders`)).values()];
    expect(streams.length).toBeGreaterThan(1);
    const client = new RedisStreamsClient({ connection: cluster.connection });
    const ids = new Map<string, string>();
    try {
      for (const stream of streams) {
        await redis.xadd(stream, '*', 'data', '{}');
        ids.set(stream, await lastValueFrom(client.emit<string>(stream, new RedisStreamRecordBuilder({ stream }).setDelay(3_600_000).build())));
      }
    } finally {
      await client.close();
    }

    const board = await startBoard({ connection: cluster.connection, allowWrites: true });
    const { body } = await getJson(`${board.url}api/overview`);
    for (const stream of streams) expect(body.rows.find((r: { name: string }) => r.name === stream).scheduled).toBe(1);
    const session = await openSession(board.url);
    for (const stream of streams) {
      const list = await getJson(`${board.url}api/scheduled?stream=${encodeURIComponent(stream)}`);
      expect(list.body.entries.map((e: { id: string; message: { data: unknown } }) => [e.id, e.message.data])).toEqual([[ids.get(stream), { stream }]]);
      const cancelled = await post(`${board.url}api/cancel-scheduled`, session, { stream, ids: [ids.get(stream)] });
      expect(cancelled.body).toEqual({ stream, cancelled: [ids.get(stream)], notWaiting: [] });
      expect(await redis.zcard(`{${stream}}:scheduled`)).toBe(0);
    }
  });
});
