import { useRedis } from '../harness/fixture.js';
import { maskIdle, runCli, startCli } from './cli.js';
import { writeKnownState } from './known-state.js';

const fx = useRedis();

/** The parts of the status JSON the watch test reads. */
interface StatusDoc {
  at: string;
  streams: Array<{ entriesAdded: number; inPerSec: number | null; groups: Array<{ name: string; entriesRead: number | null; outPerSec: number | null }> }>;
}
const url = () => fx.redis.url;

beforeEach(async () => {
  await writeKnownState(fx.redis.client());
});

describe('nestream status', () => {
  it('prints streams, groups, consumers and dead-letter sizes as a table', async () => {
    const result = await runCli(['status', '--url', url()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(maskIdle(result.stdout)).toBe(
      [
        'STREAM / GROUP / CONSUMER  LENGTH  DEAD LETTERS  LAG  PENDING  CONSUMERS  IDLE',
        'inventory.reserved              1',
        '  notification                                     0        0          1',
        '    n-1                                                     0             <idle>',
        'orders.created                  3             3',
        '  audit                                            3        0          0',
        '  billing                                          1        1          1',
        '    worker-1                                                1             <idle>',
        '(1 reply stream of request-reply clients not shown)',
        '3 dead letters in orders.created:dlq: nestream dlq list orders.created',
        '',
      ].join('\n'),
    );
  });

  it('prints a stable JSON document with --json', async () => {
    const result = await runCli(['status', '--url', url(), '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toEqual({
      schemaVersion: 1,
      kind: 'status',
      redis: url(),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      keyPrefix: '',
      replyStreams: 1,
      streams: [
        {
          name: 'inventory.reserved',
          key: 'inventory.reserved',
          length: 1,
          lastId: '1700000000500-0',
          entriesAdded: 1,
          inPerSec: null,
          deadLetter: null,
          // Safe retention would keep everything from what the only group read last.
          retainedFrom: { id: '1700000000500-0', group: 'notification' },
          groups: [
            {
              name: 'notification', pending: 0, lag: 0, entriesRead: 1, lastDeliveredId: '1700000000500-0', oldestPendingId: null, outPerSec: null,
              consumers: [{ name: 'n-1', pending: 0, idleMs: expect.any(Number) }],
            },
          ],
        },
        {
          name: 'orders.created',
          key: 'orders.created',
          length: 3,
          lastId: '1700000000002-0',
          entriesAdded: 3,
          inPerSec: null,
          deadLetter: { key: 'orders.created:dlq', length: 3, firstId: '1700000100000-0', lastId: '1700000300000-0' },
          // audit has read nothing: it holds the whole stream back.
          retainedFrom: { id: '0-0', group: 'audit' },
          groups: [
            // Redis 7.0 does not count entries-read for a group created at 0 until it reads.
            { name: 'audit', pending: 0, lag: 3, entriesRead: null, lastDeliveredId: '0-0', oldestPendingId: null, outPerSec: null, consumers: [] },
            {
              name: 'billing', pending: 1, lag: 1, entriesRead: 2, lastDeliveredId: '1700000000001-0', oldestPendingId: '1700000000001-0', outPerSec: null,
              consumers: [{ name: 'worker-1', pending: 1, idleMs: expect.any(Number) }],
            },
          ],
        },
      ],
    });
  });

  it('shows only the named streams, and applies --prefix', async () => {
    const redis = fx.redis.client();
    await redis.xadd('app:orders.created', '1-0', 'data', '1');
    const named = await runCli(['status', 'inventory.reserved', '--url', url(), '--json']);
    expect(JSON.parse(named.stdout).streams.map((s: { name: string }) => s.name)).toEqual(['inventory.reserved']);

    const prefixed = await runCli(['status', '--url', url(), '--prefix', 'app:', '--json']);
    const doc = JSON.parse(prefixed.stdout);
    expect(doc.keyPrefix).toBe('app:');
    expect(doc.streams.map((s: { name: string; key: string }) => [s.name, s.key])).toEqual([['orders.created', 'app:orders.created']]);

    const empty = await runCli(['status', '--url', url(), '--prefix', 'none:']);
    expect(empty.stdout).toBe(`No streams under key prefix "none:" at ${url()}.\n`);
  });

  it('refreshes with --watch, with events/s in per stream and out per group from the second refresh on', async () => {
    const redis = fx.redis.client();
    const cli = startCli(['status', 'orders.created', '--url', url(), '--watch', '--interval', '300ms', '--json']);
    const docs = (): StatusDoc[] => cli.stdout.split('\n').filter(Boolean).map(line => JSON.parse(line));
    await cli.waitForOutput(() => docs().length >= 1, 'the first refresh');
    expect(docs()[0].streams[0].inPerSec).toBeNull();
    // Traffic between refreshes: 50 entries in, 20 read by billing.
    for (let i = 0; i < 50; i++) await redis.xadd('orders.created', '*', 'data', String(i));
    await redis.xreadgroup('GROUP', 'billing', 'worker-1', 'COUNT', 20, 'STREAMS', 'orders.created', '>');
    const group = (d: StatusDoc, name: string) => d.streams[0].groups.find(g => g.name === name)!;
    const billing = (d: StatusDoc) => group(d, 'billing');
    await cli.waitForOutput(() => docs().some(d => d.streams[0].entriesAdded === 53 && billing(d).entriesRead === 22), 'a refresh after the traffic');
    // Each refresh's rates are the counters' deltas since the one before, per second; together they saw it all.
    const all = docs();
    let inSeen = 0;
    let outSeen = 0;
    for (let i = 1; i < all.length; i++) {
      const seconds = (Date.parse(all[i].at) - Date.parse(all[i - 1].at)) / 1000;
      const added = all[i].streams[0].entriesAdded - all[i - 1].streams[0].entriesAdded;
      const read = billing(all[i]).entriesRead! - billing(all[i - 1]).entriesRead!;
      expect(all[i].streams[0].inPerSec).toBeCloseTo(added / seconds, 6);
      expect(billing(all[i]).outPerSec).toBeCloseTo(read / seconds, 6);
      expect(group(all[i], 'audit').outPerSec).toBeNull(); // entries-read unknown
      inSeen += added;
      outSeen += read;
    }
    expect([inSeen, outSeen]).toEqual([50, 20]);
    cli.child.kill('SIGINT');
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
  });

  it('shows the IN/s and OUT/s columns in --watch text output', async () => {
    const cli = startCli(['status', 'inventory.reserved', '--url', url(), '--watch', '--interval', '200ms']);
    const refreshes = () => cli.stdout.split(/\n(?=redis:\/\/)/);
    await cli.waitForOutput(() => refreshes().length >= 3, 'three refreshes');
    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(0);
    const masked = maskIdle(refreshes()[1]).replace(/^\S+  \S+  /, '<url>  <time>  ');
    expect(masked).toBe(
      [
        '<url>  <time>  (every 200ms, Ctrl-C to stop)',
        'STREAM / GROUP / CONSUMER  LENGTH  DEAD LETTERS  LAG  PENDING  CONSUMERS  IN/s  OUT/s  IDLE',
        'inventory.reserved              1                                            0',
        '  notification                                     0        0          1            0',
        '    n-1                                                     0                          <idle>',
        '',
      ].join('\n'),
    );
  });

  it('keeps watching across a Redis restart, saying why a refresh failed', async () => {
    const cli = startCli(['status', 'inventory.reserved', '--url', url(), '--watch', '--interval', '200ms', '--json']);
    const refreshes = () => cli.stdout.split('\n').filter(Boolean).length;
    await cli.waitForOutput(() => refreshes() >= 1, 'the first refresh');
    await fx.redis.kill();
    await cli.waitForOutput((_, err) => err.includes(`error: lost the connection to Redis at ${url()} (retrying)`), 'a failed refresh');
    const before = refreshes();
    await fx.redis.start();
    await writeKnownState(fx.redis.client());
    await cli.waitForOutput(() => refreshes() > before, 'a refresh after the restart');
    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(0);
    expect(JSON.parse(cli.stdout.trim().split('\n').at(-1)!).streams[0].name).toBe('inventory.reserved');
  });
});
