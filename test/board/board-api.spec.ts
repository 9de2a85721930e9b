import { request } from 'node:http';
import { useRedis } from '../harness/fixture.js';
import { waitFor } from '../harness/wait.js';
import { writeKnownState } from '../cli/known-state.js';
import { getJson, openSession, post, startBoard } from './board-http.js';

const fx = useRedis();

beforeEach(async () => {
  await writeKnownState(fx.redis.client());
});

describe('board JSON API (standalone server)', () => {
  it('shows the overview of a known Redis state: streams, groups, lag, pending, dead letters', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const { status, body } = await getJson(`${board.url}api/overview`);
    expect(status).toBe(200);
    expect(body.replyStreams).toBe(1);
    expect(body.rows.map((r: { name: string }) => r.name)).toEqual(['inventory.reserved', 'orders.created']);
    const orders = body.rows[1];
    expect(orders).toMatchObject({ kind: 'stream', length: 3, deadLetters: 3, lastId: '1700000000002-0' });
    expect(orders.groups).toEqual([
      { name: 'audit', pending: 0, lag: 3, consumers: 0, outPerSec: null },
      { name: 'billing', pending: 1, lag: 1, consumers: 1, outPerSec: null },
    ]);
  });

  it('folds the partitions of a pattern into one row, with each partition to drill into', async () => {
    const redis = fx.redis.client();
    for (const i of [0, 1, 2]) {
      await redis.xadd(`clicks:{${i}}`, '*', 'data', `{"n":${i}}`);
      await redis.xadd(`clicks:{${i}}`, '*', 'data', `{"n":${i}}`);
      await redis.xgroup('CREATE', `clicks:{${i}}`, 'stats', '0');
    }
    await redis.xreadgroup('GROUP', 'stats', 'c1', 'COUNT', 1, 'STREAMS', 'clicks:{1}', '>');
    const board = await startBoard({ connection: fx.redis.url });
    const { body } = await getJson(`${board.url}api/overview`);
    const clicks = body.rows.find((r: { name: string }) => r.name === 'clicks');
    expect(clicks).toMatchObject({ kind: 'partitioned', length: 6, deadLetters: 0 });
    expect(clicks.groups).toEqual([{ name: 'stats', pending: 1, lag: 5, consumers: 1, outPerSec: null }]);
    expect(clicks.partitions.map((p: { name: string }) => p.name)).toEqual(['clicks:{0}', 'clicks:{1}', 'clicks:{2}']);
  });

  it('pages a stream newest first by id, and searches payloads', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const first = await getJson(`${board.url}api/entries?stream=orders.created&count=2`);
    expect(first.body.entries.map((e: { id: string }) => e.id)).toEqual(['1700000000002-0', '1700000000001-0']);
    expect(first.body.entries[0].message).toEqual({ data: { id: 3, sku: 'widget' }, correlationId: 'c-3', headers: {} });
    expect(first.body.next).toBe('1700000000001-0');
    const second = await getJson(`${board.url}api/entries?stream=orders.created&count=2&before=${first.body.next}`);
    expect(second.body.entries.map((e: { id: string }) => e.id)).toEqual(['1700000000000-0']);
    expect(second.body.next).toBeNull();
    const search = await getJson(`${board.url}api/entries?stream=orders.created&q=GADGET`);
    expect(search.body.entries.map((e: { id: string }) => e.id)).toEqual(['1700000000001-0']);
  });

  it('lists dead letters newest first, filtered by reason and text, a page at a time', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const all = await getJson(`${board.url}api/dead-letters?stream=orders.created&count=2`);
    expect(all.body.total).toBe(3);
    expect(all.body.entries.map((e: { id: string }) => e.id)).toEqual(['1700000300000-0', '1700000200000-0']);
    expect(all.body.entries[0]).toMatchObject({ reason: 'max-attempts', attempts: 3, sourceId: '1699999990002-0', error: { name: 'Error', message: 'warehouse south offline' } });
    const rest = await getJson(`${board.url}api/dead-letters?stream=orders.created&count=2&before=${all.body.next}`);
    expect(rest.body.entries.map((e: { id: string }) => e.id)).toEqual(['1700000100000-0']);
    expect(rest.body.next).toBeNull();
    const decode = await getJson(`${board.url}api/dead-letters?stream=orders.created&reason=decode`);
    expect(decode.body.entries.map((e: { id: string }) => e.id)).toEqual(['1700000200000-0']);
    const ivy = await getJson(`${board.url}api/dead-letters?stream=orders.created&q=ivy`);
    expect(ivy.body.entries.map((e: { id: string }) => e.id)).toEqual(['1700000100000-0']);
    const one = await getJson(`${board.url}api/dead-letter?stream=orders.created&id=1700000100000-0`);
    expect(one.body.message.headers).toEqual({ tenant: 'acme' });
  });

  it("shows a group's consumers and its pending list", async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const { body } = await getJson(`${board.url}api/group?stream=orders.created&group=billing`);
    expect(body.group).toMatchObject({ name: 'billing', pending: 1, consumers: [{ name: 'worker-1', pending: 1 }] });
    expect(body.pending).toMatchObject({ total: 1, next: null, entries: [{ id: '1700000000001-0', consumer: 'worker-1', deliveries: 1 }] });
  });

  it('caps page sizes and answers bad input with a clear 4xx', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    expect((await getJson(`${board.url}api/entries?stream=orders.created&count=100000`)).status).toBe(400);
    expect((await getJson(`${board.url}api/entries?stream=orders.created&count=501`)).body.error).toMatch(/count must be an integer from 1 to 500/);
    expect((await getJson(`${board.url}api/entries?stream=nope`)).status).toBe(404);
    expect((await getJson(`${board.url}api/entries?stream=orders.created&before=yesterday`)).status).toBe(400);
    expect((await getJson(`${board.url}api/group?stream=orders.created&group=nope`)).status).toBe(404);
    expect((await getJson(`${board.url}api/nothing`)).status).toBe(404);
  });

  it('answers only to local Host names on loopback (a DNS-rebinding page gets 421)', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const statusWithHost = (host: string) =>
      new Promise<number>((resolve, reject) => {
        request(`${board.url}api/overview`, { headers: { host } }, res => {
          res.resume();
          resolve(res.statusCode!);
        }).on('error', reject).end();
      });
    expect(await statusWithHost(`localhost:${board.port}`)).toBe(200);
    expect(await statusWithHost(`127.0.0.1:${board.port}`)).toBe(200);
    expect(await statusWithHost(`[::1]:${board.port}`)).toBe(200);
    expect(await statusWithHost(`attacker.example:${board.port}`)).toBe(421);
  });

  it('refuses a live tail over maxTails (429) and frees its place when the page goes', async () => {
    const board = await startBoard({ connection: fx.redis.url, maxTails: 1 });
    const first = new AbortController();
    const open = await fetch(`${board.url}api/tail?stream=orders.created`, { signal: first.signal });
    const reader = open.body!.getReader();
    let text = '';
    while (!text.includes('event: ready')) text += new TextDecoder().decode((await reader.read()).value);
    const refused = await getJson(`${board.url}api/tail?stream=orders.created`);
    expect(refused).toMatchObject({ status: 429, body: { error: '1 live tails are open already: close one first' } });
    first.abort();
    await waitFor(async () => (await fetch(`${board.url}api/tail?stream=inventory.reserved`).then(async r => {
      const ok = r.status === 200;
      await r.body?.cancel();
      return ok;
    })), 'the tail place freed');
  });

  it('streams new entries of a stream over SSE (live tail)', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const stop = new AbortController();
    const res = await fetch(`${board.url}api/tail?stream=orders.created`, { signal: stop.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (marker: string) => {
      while (!text.includes(marker)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil('event: ready');
    await fx.redis.client().xadd('orders.created', '1800000000000-0', 'data', '{"id":10}', 'cid', 'c-10');
    await readUntil('1800000000000-0');
    expect(text).toContain('"data":{"id":10}');
    stop.abort();
  });
});

describe('board writes', () => {
  it('refuses every write when the board is read-only, and changes nothing', async () => {
    const board = await startBoard({ connection: fx.redis.url });
    const session = await openSession(board.url);
    expect(session.page).toContain('name="nestream-board-writes" content="off"');
    for (const [path, body] of [
      ['redrive', { stream: 'orders.created', all: true }],
      ['purge-count', { stream: 'orders.created' }],
      ['purge', { stream: 'orders.created', confirm: 'orders.created', upTo: '1700000300000-0' }],
      ['prune', { stream: 'orders.created', group: 'billing', idleMs: 0 }],
    ] as const) {
      const res = await post(`${board.url}api/${path}`, session, body);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatch(/read-only/);
    }
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(3);
  });

  it('refuses a write without the CSRF token, with a wrong one, from another origin or not as JSON', async () => {
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const session = await openSession(board.url);
    const redrive = { stream: 'orders.created', ids: ['1700000100000-0'] };
    expect((await post(`${board.url}api/redrive`, undefined, redrive)).status).toBe(403);
    expect((await post(`${board.url}api/redrive`, { ...session, token: 'x'.repeat(43) }, redrive)).body.error).toMatch(/bad CSRF token/);
    expect((await post(`${board.url}api/redrive`, { ...session, cookie: '' }, redrive)).body.error).toMatch(/missing CSRF token/);
    expect((await post(`${board.url}api/redrive`, session, redrive, { origin: 'http://evil.example' })).body.error).toMatch(/cross-origin/);
    expect((await post(`${board.url}api/redrive`, session, redrive, { 'content-type': 'text/plain' })).body.error).toMatch(/application\/json/);
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(3);

    const done = await post(`${board.url}api/redrive`, session, redrive);
    expect(done).toEqual({ status: 200, body: { stream: 'orders.created', moved: 1, notFound: 0, skipped: 0, truncated: 0, groups: ['audit', 'billing'] } });
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(2);
  });

  it('redrives all dead letters of a reason as a job whose progress the page can follow', async () => {
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const session = await openSession(board.url);
    const started = await post(`${board.url}api/redrive`, session, { stream: 'orders.created', all: true, reason: 'max-attempts' });
    expect(started.status).toBe(200);
    let job = started.body.job;
    while (job.state === 'running') job = (await getJson(`${board.url}api/redrive-job?id=${job.id}`)).body;
    expect(job).toMatchObject({ state: 'done', reason: 'max-attempts', progress: { examined: 3, total: 3, moved: 2 }, result: { moved: 2, skipped: 1 } });
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(1);
    // A stream nobody reads: refused before any job starts.
    await fx.redis.client().xgroup('DESTROY', 'orders.created', 'audit');
    await fx.redis.client().xgroup('DESTROY', 'orders.created', 'billing');
    const refused = await post(`${board.url}api/redrive`, session, { stream: 'orders.created', all: true });
    expect(refused).toEqual({ status: 409, body: { error: expect.stringMatching(/has no consumer group/) } });
  });

  it('purges only with the typed confirmation, up to the counted id', async () => {
    const board = await startBoard({ connection: fx.redis.url, allowWrites: true });
    const session = await openSession(board.url);
    const count = await post(`${board.url}api/purge-count`, session, { stream: 'orders.created', reason: 'max-attempts' });
    expect(count.body).toMatchObject({ count: 2, upTo: '1700000300000-0' });
    const unconfirmed = await post(`${board.url}api/purge`, session, { stream: 'orders.created', reason: 'max-attempts', upTo: count.body.upTo, confirm: 'orders' });
    expect(unconfirmed.status).toBe(400);
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(3);
    const purged = await post(`${board.url}api/purge`, session, { stream: 'orders.created', reason: 'max-attempts', upTo: count.body.upTo, confirm: 'orders.created' });
    expect(purged.body).toMatchObject({ deleted: 2 });
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(1);
  });

  it('asks the authorize hook for reads and writes', async () => {
    const asked: string[] = [];
    const board = await startBoard({
      connection: fx.redis.url,
      allowWrites: true,
      authorize: (req, action) => {
        asked.push(action);
        return action === 'read' || req.headers['x-operator'] === 'yes';
      },
    });
    const session = await openSession(board.url);
    const prune = { stream: 'orders.created', group: 'billing', idleMs: 0 };
    expect((await post(`${board.url}api/prune`, session, prune)).status).toBe(403);
    const allowed = await post(`${board.url}api/prune`, session, prune, { 'x-operator': 'yes' });
    // worker-1 holds a pending entry: never pruned.
    expect(allowed.body).toMatchObject({ removed: [], keptWithPending: [{ name: 'worker-1' }] });
    expect(asked).toEqual(['read', 'write', 'write']);
  });
});
