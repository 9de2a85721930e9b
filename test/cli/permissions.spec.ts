import { useRedis } from '../harness/fixture.js';
import { runCli, startCli } from './cli.js';
import { writeKnownState } from './known-state.js';

const fx = useRedis();

/** The operator user of docs/reference/cli.md ("Permissions"), as written there. */
const OPERATOR_ACL =
  'ops on >ops-secret resetkeys resetchannels -@all +info +client|setname +ping +scan ' +
  '(~orders.* ~inventory.* +type +xinfo +xrange +xrevrange +xlen +xread +xadd +xdel +xtrim +xpending +xgroup|delconsumer +evalsha +eval)';

describe('a least-privilege operator user', () => {
  it('runs every command', async () => {
    const redis = fx.redis.client();
    await writeKnownState(redis);
    await redis.call('ACL', 'SETUSER', ...OPERATOR_ACL.split(' '));
    const url = `redis://ops:ops-secret@127.0.0.1:${fx.redis.port}`;
    const run = async (...args: string[]) => {
      const result = await runCli([...args, '--url', url]);
      // orders.created has two groups: redrive warns about it, and nothing else may be on stderr.
      expect([args.join(' '), result.stderr.replace(/^warning: orders.created is read by 2 groups.*\n/, ''), result.code]).toEqual([args.join(' '), '', 0]);
    };
    await run('status');
    await run('dlq', 'list', 'orders.created');
    await run('dlq', 'show', 'orders.created', '1700000100000-0');
    await run('dlq', 'redrive', 'inventory.reserved', '--all');
    await run('dlq', 'redrive', 'orders.created', '--ids', '1700000100000-0');
    await run('dlq', 'purge', 'orders.created', '--reason', 'decode', '--yes');
    await run('dlq', 'purge', 'orders.created', '--older-than', '1d', '--yes');
    await run('consumers', 'prune', 'orders.created', 'billing', '--idle', '0s');
    const tail = startCli(['tail', 'orders.created', '--count', '1', '--url', url]);
    await tail.waitForOutput((_, err) => err.includes('following'), 'tail to start');
    await redis.xadd('orders.created', '*', 'data', '{}');
    expect((await tail.exited).code).toBe(0);
    expect(await redis.xlen('orders.created:dlq')).toBe(0);
  });
});
