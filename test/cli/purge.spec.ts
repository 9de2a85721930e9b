import { spawn } from 'node:child_process';
import type { Redis } from 'ioredis';
import { StreamsAdmin } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { NESTREAM_BIN, runCli, type CliResult } from './cli.js';
import { addDeadLetter, writeKnownState } from './known-state.js';

const fx = useRedis();
const url = () => fx.redis.url;
let redis: Redis;

beforeEach(async () => {
  redis = fx.redis.client();
  await writeKnownState(redis);
});

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), as an operator at a shell would, and types
 * `answer` at the prompt.
 */
function runOnTerminal(args: string[], answer: string): Promise<CliResult> {
  const command = [process.execPath, NESTREAM_BIN, ...args].map(a => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdin.end(`${answer}\n`);
  return new Promise(resolve => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('nestream dlq purge', () => {
  it('refuses to delete without --yes when stdin is not a terminal, and deletes nothing', async () => {
    const result = await runCli(['dlq', 'purge', 'orders.created', '--url', url()]);
    expect([result.code, result.stdout, result.stderr]).toEqual([
      2,
      '',
      'error: dlq purge deletes for good: pass --yes to confirm (stdin is not a terminal to ask on)\n',
    ]);
    expect(await redis.xlen('orders.created:dlq')).toBe(3);
  });

  it('deletes every dead letter with --yes', async () => {
    const result = await runCli(['dlq', 'purge', 'orders.created', '--yes', '--url', url()]);
    expect([result.code, result.stdout]).toEqual([0, 'Deleted 3 dead letters from orders.created:dlq.\n']);
    expect(await redis.xlen('orders.created:dlq')).toBe(0);
    const again = await runCli(['dlq', 'purge', 'orders.created', '--yes', '--url', url()]);
    expect(again.stdout).toBe('Nothing to purge: no dead letters in orders.created:dlq.\n');
  });

  it('deletes only those older than --older-than, or with --reason', async () => {
    await redis.xadd('orders.created:dlq', '*', 'data', '{}', 'dlq.stream', 'orders.created', 'dlq.reason', 'max-attempts');
    const old = await runCli(['dlq', 'purge', 'orders.created', '--older-than', '1h', '--reason', 'max-attempts', '--yes', '--url', url()]);
    expect(old.stdout).toBe('Deleted 2 dead letters from orders.created:dlq.\n');
    expect(((await redis.xrange('orders.created:dlq', '-', '+')) as Array<[string, string[]]>).map(([id]) => id)).toEqual([
      '1700000200000-0',
      expect.stringMatching(/^\d{13}-\d+$/),
    ]);
    const older = await runCli(['dlq', 'purge', 'orders.created', '--older-than', '1h', '--yes', '--url', url(), '--json']);
    expect(JSON.parse(older.stdout)).toEqual({
      schemaVersion: 1, kind: 'purge', stream: 'orders.created', deadLetterKey: 'orders.created:dlq', dryRun: false, matched: 1, deleted: 1,
    });
    expect(await redis.xlen('orders.created:dlq')).toBe(1); // the recent one
  });

  it('only counts with --dry-run', async () => {
    const result = await runCli(['dlq', 'purge', 'orders.created', '--reason', 'decode', '--dry-run', '--url', url()]);
    expect(result.stdout).toBe('Dry run: would delete 1 dead letter with reason decode in orders.created:dlq.\n');
    expect(await redis.xlen('orders.created:dlq')).toBe(3);
  });

  it('asks on a terminal: "n" keeps everything (exit 1), "y" deletes', async () => {
    const declined = await runOnTerminal(['dlq', 'purge', 'orders.created', '--url', url()], 'n');
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain('Delete 3 dead letters in orders.created:dlq for good? [y/N]');
    expect(declined.stdout).toContain('error: aborted: nothing deleted');
    expect(await redis.xlen('orders.created:dlq')).toBe(3);

    const confirmed = await runOnTerminal(['dlq', 'purge', 'orders.created', '--older-than', '7d', '--url', url()], 'y');
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain('Delete 3 dead letters older than 7d in orders.created:dlq for good? [y/N]');
    expect(confirmed.stdout).toContain('Deleted 3 dead letters from orders.created:dlq.');
    expect(await redis.xlen('orders.created:dlq')).toBe(0);
  });

  it('deletes only what it counted: a dead letter arriving after the count stays (StreamsAdmin)', async () => {
    const admin = new StreamsAdmin({ connection: url() });
    try {
      const counted = await admin.deadLetters.count('orders.created');
      expect(counted).toEqual({ stream: 'orders.created', deadLetterKey: 'orders.created:dlq', count: 3, upTo: '1700000300000-0' });
      await addDeadLetter(redis, 'orders.created', '1700000400000-0', { data: '{}' }, { sourceId: '1-0', reason: 'manual', attempts: 1, error: ['Error', 'late'] });
      expect(await admin.deadLetters.purge('orders.created', { upTo: counted.upTo! })).toEqual({ stream: 'orders.created', deadLetterKey: 'orders.created:dlq', deleted: 3 });
      expect(((await redis.xrange('orders.created:dlq', '-', '+')) as Array<[string, string[]]>).map(([id]) => id)).toEqual(['1700000400000-0']);
    } finally {
      await admin.close();
    }
  });
});
