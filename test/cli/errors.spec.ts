import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useRedis } from '../harness/fixture.js';
import { freePort } from '../harness/redis-server.js';
import { runCli, type CliResult } from './cli.js';
import { writeKnownState } from './known-state.js';

const fx = useRedis();
const url = () => fx.redis.url;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestream-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  await writeKnownState(fx.redis.client());
});

/** What an operator sees on a failure: nothing on stdout, exactly one line on stderr. */
function expectOneLine(result: CliResult, code: number, line: string | RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  if (typeof line === 'string') expect(result.stderr).toBe(`${line}\n`);
  else expect(result.stderr.trimEnd()).toMatch(line);
  expect(result.code).toBe(code);
}

describe('bad input', () => {
  it('names a stream that does not exist', async () => {
    expectOneLine(await runCli(['status', 'orders.cancelled', '--url', url()]), 1, 'error: Stream "orders.cancelled" does not exist (key orders.cancelled)');
    expectOneLine(
      await runCli(['dlq', 'list', 'orders.cancelled', '--url', url()]),
      1,
      'error: Stream "orders.cancelled" does not exist, nor its dead-letter stream orders.cancelled:dlq',
    );
  });

  it('names a key that is not a stream', async () => {
    expectOneLine(await runCli(['status', 'feature-flags', '--url', url()]), 1, 'error: Key feature-flags is a string, not a stream');
    expectOneLine(await runCli(['dlq', 'redrive', 'feature-flags', '--all', '--url', url()]), 1, 'error: Key feature-flags is a string, not a stream');
  });

  it('refuses bad ids, durations, counts, commands and options (exit code 2)', async () => {
    expectOneLine(
      await runCli(['dlq', 'redrive', 'orders.created', '--ids', '1700000100000-0', 'yesterday', '--url', url()]),
      2,
      'error: Bad entry id "yesterday": expected <ms>-<seq>, e.g. 1700000000000-0',
    );
    expectOneLine(
      await runCli(['dlq', 'purge', 'orders.created', '--older-than', '7', '--yes', '--url', url()]),
      2,
      "error: option '--older-than <duration>' argument '7' is invalid. expected a duration like 30s, 15m, 1h30m, 7d (units ms, s, m, h, d, w)",
    );
    expectOneLine(await runCli(['dlq', 'list', 'orders.created', '--limit', '0', '--url', url()]), 2, "error: option '--limit <n>' argument '0' is invalid. expected a whole number >= 1");
    expectOneLine(await runCli(['stats', '--url', url()]), 2, "error: unknown command 'stats' (Did you mean status?)");
    expectOneLine(await runCli(['status', '--jsn', '--url', url()]), 2, /^error: unknown option '--jsn'/);
    expect(await redis().xlen('orders.created:dlq')).toBe(3);
  });
});

describe('connections', () => {
  it('fails within seconds with one line when Redis is unreachable, never printing the password', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await runCli(['status', '--url', `redis://ops:s3cret@127.0.0.1:${port}`]);
    expect(Date.now() - started).toBeLessThan(10_000); // generous: 2 shared cores; it takes well under a second
    expectOneLine(result, 1, `error: cannot connect to Redis at redis://ops:***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('gives up on a server that accepts connections and never answers', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      const result = await runCli(['status', '--url', `redis://127.0.0.1:${port}`]);
      expect(Date.now() - started).toBeLessThan(12_000); // the 5 s connect deadline, with room for 2 shared cores
      expectOneLine(result, 1, `error: no answer from Redis at redis://127.0.0.1:${port} within 5 s`);
    } finally {
      silent.close();
    }
  });

  it('reports a refused password without echoing it', async () => {
    await redis().call('ACL', 'SETUSER', 'ops', 'on', '>right-password', '~*', '+@all');
    try {
      const port = fx.redis.port;
      const result = await runCli(['status', '--url', `redis://ops:wrong-password@127.0.0.1:${port}`]);
      expectOneLine(result, 1, `error: cannot connect to Redis at redis://ops:***@127.0.0.1:${port}: WRONGPASS invalid username-password pair or user is disabled.`);
      const ok = await runCli(['status', 'orders.created', '--url', `redis://ops:right-password@127.0.0.1:${port}`]);
      expect(ok.code).toBe(0);
    } finally {
      await redis().call('ACL', 'DELUSER', 'ops');
    }
  });

  it('refuses a URL it cannot use, with the password hidden', async () => {
    expectOneLine(
      await runCli(['status', '--url', 'localhost:6379']),
      2,
      'error: bad --url "localhost:6379": the scheme must be redis:// or rediss://, not localhost://',
    );
    expectOneLine(await runCli(['status', '--url', 'http://u:pw@host']), 2, 'error: bad --url "http://u:***@host": the scheme must be redis:// or rediss://, not http://');
  });

  it('takes REDIS_URL when there is no --url', async () => {
    const result = await runCli(['status', 'orders.created', '--json'], { env: { REDIS_URL: url() } });
    expect(JSON.parse(result.stdout).redis).toBe(url());
  });

  it('reads the connection and the key prefix from --config', async () => {
    await redis().xadd('app:orders.created', '*', 'data', '1');
    const file = join(dir, 'nestream.config.json');
    writeFileSync(file, JSON.stringify({ connection: { host: '127.0.0.1', port: fx.redis.port }, keyPrefix: 'app:' }));
    const result = await runCli(['status', '--config', file, '--json']);
    const doc = JSON.parse(result.stdout);
    expect([doc.redis, doc.keyPrefix, doc.streams.map((s: { key: string }) => s.key)]).toEqual([
      `redis://127.0.0.1:${fx.redis.port}`,
      'app:',
      ['app:orders.created'],
    ]);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ connection: url(), prefix: 'app:' }));
    expectOneLine(await runCli(['status', '--config', bad]), 2, `error: config file ${bad}: unknown setting "prefix" (known: connection, keyPrefix, deadLetterSuffix)`);
    writeFileSync(bad, '{ connection: ');
    expectOneLine(await runCli(['status', '--config', bad]), 2, new RegExp(`^error: config file ${bad} is not valid JSON: `));
    expectOneLine(await runCli(['status', '--config', join(dir, 'missing.json')]), 2, `error: cannot read config file ${join(dir, 'missing.json')}: ENOENT`);
  });
});

function redis() {
  return fx.redis.client();
}
