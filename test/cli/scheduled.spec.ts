import { RedisStreamRecordBuilder } from '@nestream/transport';
import { StreamsAdmin } from '@nestream/transport/admin';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { uniqueName } from '../harness/wait.js';
import { runCli } from './cli.js';

const fx = useRedis();

describe('delayed emits in StreamsAdmin and the CLI', () => {
  it('lists what waits, due soonest first, and cancels one by its id', async () => {
    const pattern = uniqueName('reminders');
    const client = fx.client();
    const later = await lastValueFrom(client.emit<string>(pattern, new RedisStreamRecordBuilder({ n: 2 }).setDelay(3_600_000).build()));
    const sooner = await lastValueFrom(client.emit<string>(pattern, new RedisStreamRecordBuilder({ n: 1 }).setDelay(1_800_000).build()));

    const admin = new StreamsAdmin({ connection: fx.redis.url });
    try {
      const list = await admin.scheduled(pattern);
      expect(list.total).toBe(2);
      expect(list.entries.map(e => [e.id, JSON.parse(e.fields.data).n, e.key])).toEqual([[sooner, 1, pattern], [later, 2, pattern]]);
    } finally {
      await admin.close();
    }

    const listed = await runCli(['scheduled', 'list', pattern, '--url', fx.redis.url]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toBe(`${pattern}: 2 delayed emits waiting`);
    expect(listed.stdout).toContain(sooner);

    const cancelled = await runCli(['scheduled', 'cancel', pattern, sooner, '--url', fx.redis.url]);
    expect([cancelled.code, cancelled.stdout]).toEqual([0, `Cancelled ${sooner}: it will not enter ${pattern}.\n`]);
    const again = await runCli(['scheduled', 'cancel', pattern, sooner, '--url', fx.redis.url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not waiting');
    const json = JSON.parse((await runCli(['scheduled', 'list', pattern, '--json', '--url', fx.redis.url])).stdout);
    expect(json).toMatchObject({ schemaVersion: 1, kind: 'scheduled', stream: pattern, total: 1, entries: [{ id: later }] });
  });
});
