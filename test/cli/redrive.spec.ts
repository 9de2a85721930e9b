import type { Redis } from 'ioredis';
import { StreamsAdmin } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { waitFor } from '../harness/wait.js';
import { runCli, startCli } from './cli.js';
import { addDeadLetter, writeKnownState } from './known-state.js';

const fx = useRedis();
const url = () => fx.redis.url;
let redis: Redis;

beforeEach(async () => {
  redis = fx.redis.client();
  await writeKnownState(redis);
});

type Entry = [id: string, fields: string[]];
const fieldsOf = (flat: string[]): Record<string, string> =>
  Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]));
const entries = async (key: string): Promise<Array<Record<string, string>>> =>
  ((await redis.xrange(key, '-', '+')) as Entry[]).map(([id, f]) => ({ id, ...fieldsOf(f) }));
const NEW_ID = /\d{13}-\d+$/;

describe('nestream dlq redrive', () => {
  it('puts the given dead letters back with their original fields, a new id, redrive.count and redrive.from', async () => {
    const result = await runCli(['dlq', 'redrive', 'orders.created', '--ids', '1700000100000-0', '--url', url()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('warning: orders.created is read by 2 groups (audit, billing): each of them gets the redriven entries, not only the group that dead-lettered them\n');
    expect(result.stdout.replace(/-> \d{13}-\d+/, '-> <new id>')).toBe(
      ['Moved 1 dead letter from orders.created:dlq back to orders.created (groups audit, billing).', '  1700000100000-0 -> <new id>', ''].join('\n'),
    );
    const newId = result.stdout.match(/-> (\d{13}-\d+)/)![1];
    const source = await entries('orders.created');
    expect(source).toHaveLength(4);
    expect(source[3]).toEqual({
      id: newId,
      data: '{"id":7,"sku":"gizmo","customer":"ivy"}',
      cid: 'c-7',
      h: '{"tenant":"acme"}',
      'redrive.count': '1',
      'redrive.from': '1700000100000-0',
    });
    expect((await entries('orders.created:dlq')).map(e => e.id)).toEqual(['1700000200000-0', '1700000300000-0']);
  });

  it('moves every dead letter with a reason with --all --reason, and leaves the others', async () => {
    const result = await runCli(['dlq', 'redrive', 'orders.created', '--all', '--reason', 'max-attempts', '--url', url()]);
    expect(result.code).toBe(0);
    expect(result.stdout.replace(/-> \d{13}-\d+/g, '-> <new id>')).toBe(
      [
        'Moved 2 dead letters from orders.created:dlq back to orders.created (groups audit, billing).',
        '  1700000100000-0 -> <new id>',
        '  1700000300000-0 -> <new id>',
        '1 left in orders.created:dlq: another reason than max-attempts, or from another source stream',
        '',
      ].join('\n'),
    );
    expect((await entries('orders.created')).slice(3).map(e => [e.cid, e['redrive.from']])).toEqual([
      ['c-7', '1700000100000-0'],
      ['c-9', '1700000300000-0'],
    ]);
    expect((await entries('orders.created:dlq')).map(e => e.id)).toEqual(['1700000200000-0']);
  });

  it('changes nothing with --dry-run', async () => {
    const result = await runCli(['dlq', 'redrive', 'orders.created', '--all', '--dry-run', '--url', url()]);
    expect(result.stdout).toBe(
      [
        'Dry run: would move 3 dead letters from orders.created:dlq back to orders.created.',
        '  1700000100000-0',
        '  1700000200000-0',
        '  1700000300000-0',
        '',
      ].join('\n'),
    );
    expect(await redis.xlen('orders.created')).toBe(3);
    expect(await redis.xlen('orders.created:dlq')).toBe(3);
  });

  it('reports ids that are not (or no longer) dead letters, and prints JSON with --json', async () => {
    const result = await runCli(['dlq', 'redrive', 'orders.created', '--ids', '1700000300000-0', '1600000000000-0', '--url', url(), '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      schemaVersion: 1,
      kind: 'redrive',
      stream: 'orders.created',
      key: 'orders.created',
      deadLetterKey: 'orders.created:dlq',
      dryRun: false,
      groups: ['audit', 'billing'],
      moved: [{ deadLetterId: '1700000300000-0', id: expect.stringMatching(NEW_ID) }],
      notFound: ['1600000000000-0'],
      skipped: 0,
      truncated: [],
      tooWide: [],
    });
    const again = await runCli(['dlq', 'redrive', 'orders.created', '--ids', '1700000300000-0', '--url', url()]);
    expect(again.stdout).toBe(
      'Moved 0 dead letters from orders.created:dlq back to orders.created (groups audit, billing).\n' +
        '1 not in orders.created:dlq (already redriven or purged): 1700000300000-0\n',
    );
  });

  it('counts redrives: an entry that failed again after a redrive comes back with redrive.count 2', async () => {
    await runCli(['dlq', 'redrive', 'orders.created', '--ids', '1700000100000-0', '--url', url()]);
    const [redriven] = (await entries('orders.created')).slice(3);
    // Dead-lettered again, as the transport does it: the entry's fields unchanged, plus dlq.*.
    const { id, ...fields } = redriven;
    await addDeadLetter(redis, 'orders.created', '1700000400000-0', fields, {
      sourceId: id, reason: 'max-attempts', attempts: 3, error: ['Error', 'still offline'],
    });
    const shown = await runCli(['dlq', 'show', 'orders.created', '1700000400000-0', '--url', url()]);
    expect(shown.stdout).toContain('\n  redriven     1 time before (last from 1700000100000-0)\n');
    await runCli(['dlq', 'redrive', 'orders.created', '--ids', '1700000400000-0', '--url', url()]);
    const last = (await entries('orders.created')).at(-1)!;
    expect([last.cid, last['redrive.count'], last['redrive.from']]).toEqual(['c-7', '2', '1700000400000-0']);
  });

  it('leaves the dead letter of an oversized entry (a prefix of its payload) where it is, and says so', async () => {
    await addDeadLetter(redis, 'orders.created', '1700000400000-0', { data: '{"id":10,"pad":"xxxx', cid: 'c-10' }, {
      sourceId: '1699999990003-0', reason: 'decode', attempts: 1, error: ['DecodeError', 'entry is 2000000 bytes, larger than maxPayloadBytes (1048576 bytes)'],
    });
    await redis.xadd('orders.created:dlq', '1700000400000-1', 'data', '{"id":11,"pad":"x', 'dlq.stream', 'orders.created', 'dlq.reason', 'decode', 'dlq.data.bytes', '2000000', 'dlq.data.truncated', 'true');
    const dry = await runCli(['dlq', 'redrive', 'orders.created', '--all', '--reason', 'decode', '--dry-run', '--json', '--url', url()]);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      moved: [{ deadLetterId: '1700000200000-0', id: null }, { deadLetterId: '1700000400000-0', id: null }],
      truncated: ['1700000400000-1'],
    });
    const result = await runCli(['dlq', 'redrive', 'orders.created', '--ids', '1700000400000-1', '1700000400000-0', '--url', url()]);
    expect(result.stdout.replace(/-> \d{13}-\d+/g, '-> <new id>')).toBe(
      [
        'Moved 1 dead letter from orders.created:dlq back to orders.created (groups audit, billing).',
        '  1700000400000-0 -> <new id>',
        '1 left in orders.created:dlq: dead letters of oversized entries keep only a prefix of their payload and cannot be redriven: 1700000400000-1',
        '',
      ].join('\n'),
    );
    expect((await entries('orders.created:dlq')).map(e => e.id)).toContain('1700000400000-1');
  });

  it('refuses a stream no consumer group reads, unless --force', async () => {
    await addDeadLetter(redis, 'payments.failed', '1700000000000-0', { data: '{}' }, { sourceId: '1-0', reason: 'decode', attempts: 1, error: ['DecodeError', 'x'] });
    const refused = await runCli(['dlq', 'redrive', 'payments.failed', '--all', '--url', url()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: Stream "payments.failed" has no consumer group: nobody would read the redriven entries/);
    expect(await redis.xlen('payments.failed:dlq')).toBe(1);
    const forced = await runCli(['dlq', 'redrive', 'payments.failed', '--all', '--force', '--url', url()]);
    expect(forced.stdout).toMatch(/^Moved 1 dead letter from payments.failed:dlq back to payments.failed \(no consumer group reads it\)\.\n/);
  });

  it('needs --ids or --all', async () => {
    const result = await runCli(['dlq', 'redrive', 'orders.created', '--url', url()]);
    expect([result.code, result.stderr]).toEqual([2, 'error: dlq redrive needs either --ids <id...> or --all\n']);
  });

  it('leaves dead letters of another source stream alone when streams share a dead-letter stream', async () => {
    const admin = new StreamsAdmin({ connection: url(), deadLetter: { key: () => 'all:dlq' } });
    try {
      await redis.xgroup('CREATE', 'a', 'g', '$', 'MKSTREAM');
      for (const [stream, n] of [['a', 1], ['b', 2], ['a', 3]] as const) {
        await redis.xadd('all:dlq', '*', 'data', String(n), 'dlq.stream', stream, 'dlq.reason', 'manual');
      }
      const result = await admin.deadLetters.redrive('a', { all: true });
      expect([result.moved.length, result.skipped]).toEqual([2, 1]);
      expect((await entries('a')).map(e => e.data)).toEqual(['1', '3']);
      expect((await entries('all:dlq')).map(e => [e['dlq.stream'], e.data])).toEqual([['b', '2']]);
    } finally {
      await admin.close();
    }
  });
});

describe('an interrupted redrive', () => {
  it('leaves every entry exactly once when the CLI is SIGKILLed half way, and a rerun moves the rest', async () => {
    const N = 40_000;
    await redis.flushall();
    await redis.xgroup('CREATE', 'big', 'g', '$', 'MKSTREAM');
    for (let i = 0; i < N; i += 1000) {
      const pipeline = redis.pipeline();
      for (let n = i; n < i + 1000; n++) {
        pipeline.xadd('big:dlq', '*', 'data', JSON.stringify({ n }), 'cid', `c-${n}`, 'dlq.stream', 'big', 'dlq.id', `1-${n}`, 'dlq.reason', 'max-attempts');
      }
      await pipeline.exec();
    }
    const deadLetterIds = ((await redis.xrange('big:dlq', '-', '+')) as Entry[]).map(([id]) => id);

    const cli = startCli(['dlq', 'redrive', 'big', '--all', '--chunk-size', '50', '--url', url()]);
    await waitFor(async () => (await redis.xlen('big:dlq')) <= N / 2, 'half of the dead letters moved', 60_000);
    cli.child.kill('SIGKILL');
    expect((await cli.exited).signal).toBe('SIGKILL');

    const left = await redis.xlen('big:dlq');
    expect(left).toBeGreaterThan(0); // really interrupted
    expect(left + (await redis.xlen('big'))).toBe(N); // nothing lost, nothing in both

    const rerun = await runCli(['dlq', 'redrive', 'big', '--all', '--json', '--url', url()]);
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).moved).toHaveLength(left);
    expect(await redis.xlen('big:dlq')).toBe(0);

    const moved = await entries('big');
    expect(moved).toHaveLength(N);
    expect(new Set(moved.map(e => e['redrive.from']))).toEqual(new Set(deadLetterIds));
    expect(moved.map(e => JSON.parse(e.data).n).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, n) => n));
    expect(moved.every(e => e['redrive.count'] === '1' && e.cid === `c-${JSON.parse(e.data).n}` && !('dlq.stream' in e))).toBe(true);
  });
});
