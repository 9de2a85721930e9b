import { request } from 'node:http';
import { useRedis } from '../harness/fixture.js';
import { runCli, startCli } from './cli.js';
import { writeKnownState } from './known-state.js';

const fx = useRedis();

beforeEach(async () => {
  await writeKnownState(fx.redis.client());
});

describe('nestream board', () => {
  it("prints the board's URL and serves the streams of the Redis it was given, read-only by default", async () => {
    const cli = startCli(['board', '--url', fx.redis.url, '--port', '0']);
    // The URL goes to stdout and the note to stderr: two pipes, either may arrive first.
    await cli.waitForOutput(
      (stdout, stderr) => /^http:\/\/127\.0\.0\.1:\d+\/\n/.test(stdout) && /read-only; Ctrl-C to stop/.test(stderr),
      'the board URL on stdout and the read-only note on stderr',
    );
    const url = cli.stdout.trim();
    const overview = (await (await fetch(`${url}api/overview`)).json()) as { rows: Array<{ name: string }> };
    expect(overview.rows.map(r => r.name)).toEqual(['inventory.reserved', 'orders.created']);
    const page = await (await fetch(url)).text();
    expect(page).toContain('name="nestream-board-writes" content="off"');
    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(0);
  });

  it('answers only to the host names given with --allowed-host', async () => {
    const cli = startCli(['board', '--url', fx.redis.url, '--port', '0', '--allowed-host', 'board.internal', 'ops.internal']);
    await cli.waitForOutput(stdout => stdout.endsWith('/\n'), 'the board URL on stdout');
    const url = new URL(cli.stdout.trim());
    const statusWithHost = (host: string) =>
      new Promise<number>((resolve, reject) => {
        request(new URL('api/overview', url), { headers: { host } }, res => {
          res.resume();
          resolve(res.statusCode!);
        }).on('error', reject).end();
      });
    expect(await statusWithHost(`ops.internal:${url.port}`)).toBe(200);
    expect(await statusWithHost(`localhost:${url.port}`)).toBe(421);
    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(0);
  });

  it('says so in one line when Redis cannot be reached, and serves nothing', async () => {
    const result = await runCli(['board', '--url', 'redis://127.0.0.1:1', '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: /);
    expect(result.stdout).toBe('');
  });

  it('refuses a bad port as bad usage', async () => {
    const result = await runCli(['board', '--port', 'eighty']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/expected a port number/);
  });
});
