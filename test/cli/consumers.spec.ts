import type { Redis } from 'ioredis';
import { useRedis } from '../harness/fixture.js';
import { maskIdle, runCli } from './cli.js';

const fx = useRedis();
const url = () => fx.redis.url;
let redis: Redis;

/** Group `billing` of `orders.created`: `busy` holds 2 pending entries, `gone-1` and `gone-2` none. */
beforeEach(async () => {
  redis = fx.redis.client();
  await redis.flushall();
  for (let i = 0; i < 3; i++) await redis.xadd('orders.created', '*', 'data', String(i));
  await redis.xgroup('CREATE', 'orders.created', 'billing', '0');
  await redis.xreadgroup('GROUP', 'billing', 'busy', 'COUNT', 2, 'STREAMS', 'orders.created', '>');
  await redis.xreadgroup('GROUP', 'billing', 'gone-1', 'COUNT', 1, 'STREAMS', 'orders.created', '>');
  await redis.xack('orders.created', 'billing', ((await redis.xrange('orders.created', '-', '+')) as Array<[string, string[]]>)[2][0]);
  await redis.xgroup('CREATECONSUMER', 'orders.created', 'billing', 'gone-2');
});

const consumers = async () => ((await redis.xinfo('CONSUMERS', 'orders.created', 'billing')) as unknown[][]).map(row => [row[1], row[3]]);

describe('nestream consumers prune', () => {
  it('removes idle consumers without pending entries and never one that has some', async () => {
    const result = await runCli(['consumers', 'prune', 'orders.created', 'billing', '--idle', '0s', '--url', url()]);
    expect(result.code).toBe(0);
    expect(maskIdle(result.stdout)).toBe(
      [
        '         CONSUMER  PENDING  IDLE',
        'removed  gone-1          0  <idle>',
        'removed  gone-2          0  <idle>',
        'kept     busy            2  <idle>',
        'Group billing of orders.created: 2 removed, 1 kept, 0 idle less than 0ms.',
        'Consumers with pending entries are never removed (their entries would be lost): let them be claimed or acked first.',
        '',
      ].join('\n'),
    );
    expect(await consumers()).toEqual([['busy', 2]]);
    expect(((await redis.xpending('orders.created', 'billing')) as [number])[0]).toBe(2);
  });

  it('keeps consumers idle less than --idle, and changes nothing with --dry-run', async () => {
    const recent = await runCli(['consumers', 'prune', 'orders.created', 'billing', '--idle', '1h', '--url', url()]);
    expect(recent.stdout).toBe('Group billing of orders.created: 0 removed, 0 kept, 3 idle less than 1h.\n');
    const dry = await runCli(['consumers', 'prune', 'orders.created', 'billing', '--idle', '0s', '--dry-run', '--url', url(), '--json']);
    const doc = JSON.parse(dry.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, kind: 'prune', stream: 'orders.created', group: 'billing', dryRun: true, idleMs: 0, active: 0 });
    expect(doc.removed.map((c: { name: string }) => c.name)).toEqual(['gone-1', 'gone-2']);
    expect(doc.keptWithPending).toEqual([{ name: 'busy', pending: 2, idleMs: expect.any(Number) }]);
    expect((await consumers()).map(([name]) => name)).toEqual(['busy', 'gone-1', 'gone-2']);
  });

  it('fails with one line for an unknown group or stream, and needs --idle', async () => {
    const group = await runCli(['consumers', 'prune', 'orders.created', 'shipping', '--idle', '1h', '--url', url()]);
    expect([group.code, group.stderr]).toEqual([1, 'error: Stream orders.created has no consumer group "shipping"\n']);
    const stream = await runCli(['consumers', 'prune', 'orders.cancelled', 'billing', '--idle', '1h', '--url', url()]);
    expect([stream.code, stream.stderr]).toEqual([1, 'error: Stream "orders.cancelled" does not exist (key orders.cancelled)\n']);
    const idle = await runCli(['consumers', 'prune', 'orders.created', 'billing', '--url', url()]);
    expect([idle.code, idle.stderr]).toEqual([2, "error: required option '--idle <duration>' not specified\n"]);
  });
});
