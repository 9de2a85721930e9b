import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { writeKnownState } from '../cli/known-state.js';
import { getJson, openSession, startBoard } from './board-http.js';

const PASSWORD = 'board-s3cret-pw';
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
});

afterAll(async () => {
  await redis.stop();
});

describe('the board never shows where Redis is', () => {
  it('has no Redis URL, host, port or password in its page, assets, answers or errors, even with Redis down', async () => {
    await writeKnownState(redis.client());
    const board = await startBoard({ connection: `redis://:${PASSWORD}@127.0.0.1:${redis.port}` });
    const bodies: string[] = [];
    const session = await openSession(board.url);
    bodies.push(session.page);
    for (const path of ['assets/board.js', 'api/overview', 'api/entries?stream=orders.created', 'api/dead-letters?stream=orders.created', 'api/entries?stream=nope']) {
      bodies.push(await (await fetch(board.url + path)).text());
    }
    await redis.kill();
    const down = await getJson(`${board.url}api/overview`);
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ error: 'Redis is unavailable (see the server log)' });
    bodies.push(JSON.stringify(down.body));
    for (const body of bodies) {
      expect(body).not.toContain(PASSWORD);
      expect(body).not.toContain(String(redis.port));
      expect(body).not.toMatch(/redis:\/\//);
    }
    await redis.start();
  });
});
