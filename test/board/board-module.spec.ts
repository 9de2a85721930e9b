import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { StreamsBoardModule } from '@nestream/board';
import { useRedis } from '../harness/fixture.js';
import { writeKnownState } from '../cli/known-state.js';
import { getJson, openSession, post } from './board-http.js';

const fx = useRedis();
let app: INestApplication | undefined;

beforeEach(async () => {
  await writeKnownState(fx.redis.client());
});

afterEach(async () => {
  await app?.close();
  app = undefined;
});

@Controller('orders')
class OrdersController {
  @Get()
  list() {
    return ['the app still answers its own routes'];
  }
}

async function startApp(imports: unknown[], adapter?: FastifyAdapter): Promise<string> {
  @Module({ imports: imports as never[], controllers: [OrdersController] })
  class AppModule {}
  app = adapter ? await NestFactory.create(AppModule, adapter, { logger: false }) : await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app.getUrl();
}

describe('StreamsBoardModule in a Nest (Express) app', () => {
  it('serves the board under basePath next to the app routes (forRoot)', async () => {
    const url = await startApp([StreamsBoardModule.forRoot({ connection: fx.redis.url, basePath: '/ops/streams' })]);
    const page = await fetch(`${url}/ops/streams/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const overview = await getJson(`${url}/ops/streams/api/overview`);
    expect(overview.body.rows.map((r: { name: string }) => r.name)).toEqual(['inventory.reserved', 'orders.created']);
    expect((await fetch(`${url}/ops/streams/assets/board.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect(await (await fetch(`${url}/orders`)).json()).toEqual(['the app still answers its own routes']);
  });

  it('takes its options from a factory (forRootAsync) and writes through Express body parsing', async () => {
    const url = await startApp([
      StreamsBoardModule.forRootAsync({ useFactory: async () => ({ connection: fx.redis.url, basePath: 'board', allowWrites: true, authorize: () => true }) }),
    ]);
    const session = await openSession(`${url}/board/`);
    const res = await post(`${url}/board/api/redrive`, session, { stream: 'orders.created', ids: ['1700000100000-0'] });
    expect(res).toMatchObject({ status: 200, body: { moved: 1 } });
    expect((await post(`${url}/board/api/redrive`, undefined, { stream: 'orders.created', all: true })).status).toBe(403);
    expect(await fx.redis.client().xlen('orders.created:dlq')).toBe(2);
  });
});

describe('StreamsBoardModule at the root of a Nest app', () => {
  it("leaves every path that is not the board's to the app", async () => {
    const url = await startApp([StreamsBoardModule.forRoot({ connection: fx.redis.url, basePath: '/' })]);
    expect((await fetch(`${url}/`)).headers.get('content-type')).toMatch(/^text\/html/);
    expect((await getJson(`${url}/api/overview`)).status).toBe(200);
    expect(await (await fetch(`${url}/orders`)).json()).toEqual(['the app still answers its own routes']);
  });
});

describe('StreamsBoardModule in an app with a global prefix', () => {
  it('is served under the prefix, its page pointing there', async () => {
    @Module({ imports: [StreamsBoardModule.forRoot({ connection: fx.redis.url, basePath: '/board' })] })
    class PrefixedModule {}
    app = await NestFactory.create(PrefixedModule, { logger: false });
    app.setGlobalPrefix('v1');
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const session = await openSession(`${url}/v1/board/`);
    expect(session.page).toContain('<script type="module" src="/v1/board/assets/board.js"></script>');
    expect(session.page).toContain('<meta name="nestream-board-base" content="/v1/board">');
    expect((await getJson(`${url}/v1/board/api/overview`)).status).toBe(200);
    expect((await fetch(`${url}/v1/board/assets/board.css`)).status).toBe(200);
  });
});

describe('StreamsBoardModule in a Nest (Fastify) app', () => {
  it('serves the page, the API and writes (body read by the board) next to the app routes', async () => {
    const url = await startApp([StreamsBoardModule.forRoot({ connection: fx.redis.url, basePath: '/ops/streams', allowWrites: true, authorize: () => true })], new FastifyAdapter());
    const session = await openSession(`${url}/ops/streams/`);
    expect(session.page).toContain('<script type="module" src="/ops/streams/assets/board.js"></script>');
    const overview = await getJson(`${url}/ops/streams/api/overview`);
    expect(overview.body.rows.map((r: { name: string }) => r.name)).toEqual(['inventory.reserved', 'orders.created']);
    expect(overview.headers.get('content-security-policy')).toContain("default-src 'none'");
    const res = await post(`${url}/ops/streams/api/redrive`, session, { stream: 'orders.created', ids: ['1700000100000-0'] });
    expect(res).toMatchObject({ status: 200, body: { moved: 1 } });
    expect((await post(`${url}/ops/streams/api/redrive`, undefined, { stream: 'orders.created', all: true })).status).toBe(403);
    expect(await (await fetch(`${url}/orders`)).json()).toEqual(['the app still answers its own routes']);
  });
});
