import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { StreamsAdmin } from '@nestream/transport/admin';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { runCli } from './cli.js';

const fx = useRedis();
const admins: StreamsAdmin[] = [];
const admin = () => {
  const a = new StreamsAdmin({ connection: fx.redis.url });
  admins.push(a);
  return a;
};
afterEach(() => Promise.all(admins.splice(0).map(a => a.close())));

/** A service of group `billing` on `pattern` that records every event it handles (`{ n }` payloads). */
async function startBilling(pattern: string, seen: number[], options: { partitions?: number } = {}) {
  @Controller()
  class Billing {
    @EventPattern<string>(pattern, options.partitions ? { partitions: options.partitions } : {})
    handle(@Payload() event: { n: number }) {
      seen.push(event.n);
    }
  }
  fx.apps.push(await startApp([Billing], { connection: fx.redis.url, group: 'billing', consumer: 'b1', claim: { intervalMs: 200 } }));
}

async function emitNumbered(pattern: string, from: number, to: number): Promise<string[]> {
  const client = fx.client();
  const ids: string[] = [];
  for (let n = from; n <= to; n++) ids.push(await lastValueFrom(client.emit(pattern, { n })));
  return ids;
}

describe('StreamsAdmin.resetGroup()', () => {
  it('rewinds a running group to an entry: the dry run counts, the reset makes the service handle those entries again', async () => {
    const pattern = uniqueName('orders');
    const seen: number[] = [];
    await startBilling(pattern, seen);
    const ids = await emitNumbered(pattern, 1, 10);
    await waitFor(() => seen.length === 10, 'the first 10 events to be handled');
    await waitFor(async () => (await fx.pending(pattern, 'billing')) === 0, 'every entry acked');

    const dry = await admin().resetGroup(pattern, 'billing', { to: ids[6], dryRun: true });
    expect(dry.moves).toEqual([
      { key: pattern, fromId: ids[9], toId: expect.any(String), redelivered: 4, skipped: 0, toDeliver: 4, countsCapped: false, pending: 0 },
    ]);
    expect(dry.liveConsumers.map(c => c.name)).toEqual(['b1']);
    expect(seen).toHaveLength(10); // a dry run changes nothing

    await admin().resetGroup(pattern, 'billing', { to: ids[6] });
    await waitFor(() => seen.length === 14, 'entries 7 to 10 to be handled again');
    expect(seen.slice(10)).toEqual([7, 8, 9, 10]);
  });

  it('rewinds to a time: entries added at that time or later run again; "end" skips a backlog', async () => {
    const pattern = uniqueName('orders');
    const seen: number[] = [];
    const before = await emitNumbered(pattern, 1, 3);
    const redis = fx.redis.client();
    await redis.xgroup('CREATE', pattern, 'billing', '$');
    // Entry 4 must be in a later millisecond than entry 3, or "from entry 4's time" would include 3.
    await waitFor(() => Date.now() > Number(before[2].split('-')[0]) + 1, 'the clock to pass entry 3');
    const afterIds = await emitNumbered(pattern, 4, 6);
    // Skip forward past 4..6 before any consumer runs: they are never delivered.
    const skip = await admin().resetGroup(pattern, 'billing', { to: 'end' });
    expect(skip.moves[0]).toMatchObject({ skipped: 3, redelivered: 0, toDeliver: 0 });
    await startBilling(pattern, seen);
    await emitNumbered(pattern, 7, 7);
    await waitFor(() => seen.length === 1, 'the new event');
    expect(seen).toEqual([7]);

    // Back to the time entry 4 was added: 4..7 run (again, for 7). The position had passed all four.
    const at = new Date(Number(afterIds[0].split('-')[0]));
    const rewind = await admin().resetGroup(pattern, 'billing', { to: at });
    expect(rewind.moves[0]).toMatchObject({ redelivered: 4, skipped: 0, toDeliver: 4 });
    await waitFor(() => seen.length === 5, 'entries 4 to 7');
    expect(seen).toEqual([7, 4, 5, 6, 7]);
  });

  it('moves every partition of a partitioned pattern', async () => {
    const pattern = uniqueName('parts');
    const seen: number[] = [];
    await startBilling(pattern, seen, { partitions: 3 });
    await emitNumbered(pattern, 1, 9);
    await waitFor(() => seen.length === 9, 'the 9 events');
    await waitFor(async () => {
      for (let i = 0; i < 3; i++) if ((await fx.pending(`${pattern}:{${i}}`, 'billing')) !== 0) return false;
      return true;
    }, 'every partition acked');
    const result = await admin().resetGroup(pattern, 'billing', { to: 'start' });
    expect(result.moves.map(m => m.key)).toEqual([0, 1, 2].map(i => `${pattern}:{${i}}`));
    expect(result.moves.reduce((n, m) => n + m.redelivered, 0)).toBe(9);
    await waitFor(() => seen.length === 18, 'all 9 again');
    expect([...seen.slice(9)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses an unknown stream, an unknown group and a bad position with typed errors', async () => {
    const pattern = uniqueName('orders');
    await emitNumbered(pattern, 1, 1);
    await expect(admin().resetGroup('nope', 'billing', { to: 'start' })).rejects.toMatchObject({ code: 'unknown-stream' });
    await expect(admin().resetGroup(pattern, 'billing', { to: 'start' })).rejects.toMatchObject({ code: 'unknown-group' });
    await fx.redis.client().xgroup('CREATE', pattern, 'billing', '0');
    await expect(admin().resetGroup(pattern, 'billing', { to: 'yesterday' })).rejects.toMatchObject({ code: 'bad-id' });
    await expect(admin().resetGroup(pattern, 'billing', { to: new Date(Number.NaN) })).rejects.toMatchObject({ code: 'bad-option' });
  });
});

describe('StreamsAdmin.createGroup()', () => {
  it('creates a group that starts at the beginning of history, and refuses one that exists', async () => {
    const pattern = uniqueName('audit');
    await emitNumbered(pattern, 1, 5);
    const dry = await admin().createGroup(pattern, 'audit', { from: 'start', dryRun: true });
    expect(dry.moves[0]).toMatchObject({ fromId: null, toId: '0-0', toDeliver: 5 });
    expect(((await fx.redis.client().xinfo('GROUPS', pattern)) as unknown[]).length).toBe(0);

    await admin().createGroup(pattern, 'audit', { from: 'start' });
    const seen: number[] = [];
    @Controller()
    class Audit {
      @EventPattern<string>(pattern)
      handle(@Payload() event: { n: number }) {
        seen.push(event.n);
      }
    }
    fx.apps.push(await startApp([Audit], { connection: fx.redis.url, group: 'audit', consumer: 'a1' }));
    await waitFor(() => seen.length === 5, 'the whole history');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    await expect(admin().createGroup(pattern, 'audit')).rejects.toMatchObject({ code: 'group-exists' });
  });
});

describe('nestream groups', () => {
  it('reset --dry-run prints the table and changes nothing; without a terminal it needs --yes', async () => {
    const pattern = uniqueName('orders');
    const redis = fx.redis.client();
    const ids = await emitNumbered(pattern, 1, 4);
    await redis.xgroup('CREATE', pattern, 'billing', '$');
    const dry = await runCli(['groups', 'reset', pattern, 'billing', '--to', ids[2], '--dry-run', '--url', fx.redis.url]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`Dry run: group billing of ${pattern} would have 2 entries delivered again, 0 skipped, 2 to deliver from ${ids[2]}.`);
    expect(((await redis.xinfo('GROUPS', pattern)) as unknown[][])[0]).toContain(ids[3]);

    const refused = await runCli(['groups', 'reset', pattern, 'billing', '--to', 'start', '--url', fx.redis.url]);
    expect([refused.code, refused.stderr]).toEqual([2, 'error: groups reset changes what a group reads: pass --yes to confirm (stdin is not a terminal to ask on)\n']);

    const done = await runCli(['groups', 'reset', pattern, 'billing', '--to', 'start', '--yes', '--json', '--url', fx.redis.url]);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ schemaVersion: 1, kind: 'group-move', stream: pattern, group: 'billing', dryRun: false, moves: [{ toId: '0-0', redelivered: 4 }] });
    const bad = await runCli(['groups', 'reset', pattern, 'billing', '--to', 'soon', '--url', fx.redis.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected start, end, an entry id');
  });

  it('create --from 1h gives the new group the last hour', async () => {
    const pattern = uniqueName('audit');
    await emitNumbered(pattern, 1, 3);
    const result = await runCli(['groups', 'create', pattern, 'audit', '--from', '1h', '--url', fx.redis.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Group audit of ${pattern} created: 3 entries to deliver from `);
    const again = await runCli(['groups', 'create', pattern, 'audit', '--url', fx.redis.url]);
    expect([again.code, again.stderr]).toEqual([1, `error: Stream ${pattern} already has a consumer group "audit": reset it instead\n`]);
  });
});
