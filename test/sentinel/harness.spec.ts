import { startRedisSentinel, type TestRedisSentinel } from '../harness/redis-sentinel.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// The Sentinel harness itself, checked with a plain ioredis Sentinel client.
let sentinel: TestRedisSentinel;
beforeAll(async () => {
  sentinel = await startRedisSentinel();
});
afterAll(async () => {
  await sentinel?.stop();
});

describe('the Redis Sentinel harness', () => {
  it('fails over to the replica when the master is SIGKILLed; a Sentinel client keeps writing; the old master comes back as a replica', async () => {
    const [first, second] = sentinel.dataPorts;
    expect(await sentinel.masterPort()).toBe(first);
    const key = uniqueName('sentinel');
    const client = sentinel.client();
    const state = { ok: 0, errors: [] as string[], running: true };
    const loop = (async () => {
      while (state.running) {
        try {
          await client.xadd(key, '*', 'n', String(state.ok));
          state.ok++;
        } catch (e) {
          state.errors.push((e as Error).message);
        }
      }
    })();
    await waitFor(() => state.ok >= 50, '50 writes before the failover');
    expect(await sentinel.node(first).call('WAIT', 1, 5000)).toBe(1);
    const replicated = await sentinel.node(second).xlen(key);
    expect(replicated).toBeGreaterThanOrEqual(50);

    const promoted = await sentinel.killMaster();
    expect(promoted).toBe(second);
    const at = state.ok;
    await waitFor(() => state.ok >= at + 50, '50 writes after the failover', 30_000);
    state.running = false;
    await loop;
    // The client found the new master through the sentinels: what it wrote is there, after what was replicated.
    const onNewMaster = await sentinel.node(promoted).xlen(key);
    expect(onNewMaster).toBeGreaterThanOrEqual(replicated + 50);
    console.info(`sentinel failover: ${state.ok} writes acknowledged, ${onNewMaster} on the new master, ${state.errors.length} rejected: ${[...new Set(state.errors)].join('; ')}`);

    await sentinel.restartOldMaster();
    expect(((await sentinel.node(first).call('ROLE')) as unknown[]).slice(0, 3)).toEqual(['slave', '127.0.0.1', promoted]);
    expect(await sentinel.node(promoted).call('WAIT', 1, 5000)).toBe(1);
    expect(await sentinel.node(first).xlen(key)).toBe(await sentinel.node(promoted).xlen(key));
  });
});
