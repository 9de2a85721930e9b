import type { Redis } from 'ioredis';
import { useRedis } from '../harness/fixture.js';
import { runCli, startCli } from './cli.js';

const fx = useRedis();
const url = () => fx.redis.url;
let redis: Redis;

beforeEach(async () => {
  redis = fx.redis.client();
  await redis.flushall();
  await redis.xadd('orders.created', '*', 'data', '{"old":true}');
  await redis.xgroup('CREATE', 'orders.created', 'billing', '0');
  await redis.xadd('inventory.reserved', '*', 'data', '{"old":true}');
});

const ids = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}(\S+) {2}\d{13}-\d+/g;

describe('nestream tail', () => {
  it('follows new entries of several streams, decoded, without joining a group', async () => {
    const cli = startCli(['tail', 'orders.created', 'inventory.reserved', '--url', url()]);
    await cli.waitForOutput((_, err) => err.includes('following'), 'tail to start');
    // Ids of one millisecond, so the order across the two streams is the ids' order, whatever the timing.
    const ms = Date.now() + 1000;
    await redis.xadd('orders.created', `${ms}-1`, 'data', '{"id":1}', 'cid', 'c-1', 'h', '{"tenant":"acme"}');
    await redis.xadd('inventory.reserved', `${ms}-2`, 'data', '"line one\\nline two"');
    await redis.xadd('orders.created', `${ms}-3`, 'sku', 'widget');
    await cli.waitForOutput(out => out.split('\n').length > 3, 'three entries');
    cli.child.kill('SIGINT');
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('following orders.created, inventory.reserved (Ctrl-C to stop)\n');
    expect(result.stdout.replace(ids, '<time>  $1  <id>')).toBe(
      [
        '<time>  orders.created  <id>  {"id":1}  cid=c-1  headers={"tenant":"acme"}',
        '<time>  inventory.reserved  <id>  "line one\\nline two"',
        '<time>  orders.created  <id>  undecodable (entry has no "data" field): sku=widget',
        '',
      ].join('\n'),
    );
    // A plain XREAD: the group is untouched and no group was created on the other stream.
    const groups = (await redis.xinfo('GROUPS', 'orders.created')) as unknown[][];
    expect(groups.map(g => [g[1], g[3], g[5]])).toEqual([['billing', 0, 0]]);
    expect(await redis.xinfo('GROUPS', 'inventory.reserved')).toEqual([]);
  });

  it('prints one JSON document per entry with --json, and stops after --count entries', async () => {
    const cli = startCli(['tail', 'orders.created', '--json', '--count', '2', '--url', url()]);
    await cli.waitForOutput((_, err) => err.includes('following'), 'tail to start');
    const id1 = await redis.xadd('orders.created', '*', 'data', '{"id":1}', 'cid', 'c-1');
    const id2 = await redis.xadd('orders.created', '*', 'data', 'oops');
    await redis.xadd('orders.created', '*', 'data', '{"id":3}');
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').map(line => JSON.parse(line))).toEqual([
      {
        schemaVersion: 1, kind: 'entry', stream: 'orders.created', key: 'orders.created', id: id1,
        time: new Date(Number(id1!.split('-')[0])).toISOString(),
        data: { id: 1 }, correlationId: 'c-1', headers: {}, decodeError: null, fields: { data: '{"id":1}', cid: 'c-1' },
      },
      {
        schemaVersion: 1, kind: 'entry', stream: 'orders.created', key: 'orders.created', id: id2,
        time: new Date(Number(id2!.split('-')[0])).toISOString(),
        data: null, correlationId: null, headers: null, decodeError: expect.stringMatching(/^"data" is not valid JSON/), fields: { data: 'oops' },
      },
    ]);
  });

  it('fails with one line for a stream that does not exist', async () => {
    const result = await runCli(['tail', 'orders.cancelled', '--url', url()]);
    expect([result.code, result.stderr]).toEqual([1, 'error: Stream "orders.cancelled" does not exist (key orders.cancelled)\n']);
  });
});
