import type { Cluster } from 'ioredis';
import { startRedisCluster, type TestRedisCluster } from '../harness/redis-cluster.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// The cluster harness itself, checked with plain ioredis: what the transport's cluster tests rely on.
let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

/** How many slots each master serves, as one node sees it. */
async function slotCounts(port: number): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const [from, to, [, master]] of (await cluster.node(port).call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>) {
    counts.set(master, (counts.get(master) ?? 0) + to - from + 1);
  }
  return counts;
}

/** XADDs through a Cluster client, one after the other, until stopped; counts what succeeded and what failed. */
function writeLoop(client: Cluster, key: string) {
  const state = { ok: 0, errors: [] as string[], running: true };
  const done = (async () => {
    while (state.running) {
      try {
        await client.xadd(key, '*', 'n', String(state.ok));
        state.ok++;
      } catch (e) {
        state.errors.push((e as Error).message);
      }
    }
  })();
  return { state, stop: async () => ((state.running = false), await done) };
}

describe('the Redis Cluster harness', () => {
  it('starts 3 masters with a replica each, and keys in different slots land on different masters', async () => {
    expect(cluster.nodes).toHaveLength(6);
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    const prefix = uniqueName('spread');
    const keys = await cluster.keysOnEveryMaster(i => `{${prefix}${i}}.stream`);
    const client = cluster.client();
    for (const key of keys.values()) await client.xadd(key, '*', 'a', '1');
    for (const [master, key] of keys) {
      // Each key is held by its own master; the other masters redirect to it.
      expect(await cluster.node(master).exists(key)).toBe(1);
      const moved = `MOVED ${await cluster.slotOf(key)} 127.0.0.1:${master}`;
      for (const other of masters.filter(m => m !== master)) await expect(cluster.node(other).exists(key)).rejects.toThrow(moved);
    }
  });

  it('moves exactly one slot with its keys while a Cluster client keeps writing to it (ASK, then MOVED)', async () => {
    const key = `{${uniqueName('move')}}.stream`;
    const neighbour = key.replace('.stream', '.stream:dlq'); // same slot
    const client = cluster.client();
    await client.xadd(neighbour, '*', 'a', '1');
    const source = await cluster.masterOf(key);
    const countsBefore = await slotCounts(source);
    const loop = writeLoop(client, key);
    await waitFor(() => loop.state.ok >= 20, '20 writes before the move');
    const keysBefore = (await cluster.node(source).call('CLUSTER', 'COUNTKEYSINSLOT', await cluster.slotOf(key))) as number;
    let duringMove = 0;
    const target = await cluster.moveSlotOf(key, undefined, {
      whileMigrating: async () => {
        // The slot's keys are on the target already: the source answers ASK, the client follows it.
        const ask = `ASK ${await cluster.slotOf(key)} 127.0.0.1:`;
        await expect(cluster.node(source).xlen(key)).rejects.toThrow(ask);
        const at = loop.state.ok;
        await waitFor(() => loop.state.ok >= at + 20, '20 writes while the slot is migrating');
        duringMove = loop.state.ok - at;
      },
    });
    const at = loop.state.ok;
    await waitFor(() => loop.state.ok >= at + 20, '20 writes after the move');
    await loop.stop();

    expect(target).not.toBe(source);
    expect(keysBefore).toBe(2);
    expect(duringMove).toBeGreaterThanOrEqual(20);
    expect(loop.state.errors).toEqual([]);
    expect(await cluster.masterOf(key)).toBe(target);
    expect(await cluster.node(target).xlen(key)).toBe(loop.state.ok);
    expect(await cluster.node(target).xlen(neighbour)).toBe(1);
    await expect(cluster.node(source).xlen(key)).rejects.toThrow(/^MOVED \d+ 127\.0\.0\.1:\d+/);
    // Only this slot moved.
    expect(await slotCounts(target)).toEqual(
      new Map([...countsBefore].map(([port, n]) => [port, port === source ? n - 1 : port === target ? n + 1 : n])),
    );
  });

  it('killMasterOf promotes the replica with the data written with WAIT 1 before the kill; restartNode brings the old master back as a replica', async () => {
    const key = `{${uniqueName('kill')}}.stream`;
    const client = cluster.client();
    for (let i = 0; i < 100; i++) await client.xadd(key, '*', 'n', String(i));
    const old = await cluster.masterOf(key);
    expect(await cluster.node(old).call('WAIT', 1, 5000)).toBe(1);

    const promoted = await cluster.killMasterOf(key);
    expect(promoted).not.toBe(old);
    expect(await cluster.node(promoted).call('ROLE')).toEqual(expect.arrayContaining(['master']));
    expect(await cluster.masterOf(key)).toBe(promoted);
    // The Cluster client finds the new master by itself.
    await waitFor(async () => (await client.xlen(key).catch(() => -1)) === 100, 'the client to read the 100 entries from the new master');
    expect(await client.xadd(key, '*', 'n', 'after')).toMatch(/^\d+-\d+$/);

    await cluster.restartNode(old);
    const role = (await cluster.node(old).call('ROLE')) as [string, string, number];
    expect(role.slice(0, 3)).toEqual(['slave', '127.0.0.1', promoted]);
    expect(await cluster.node(promoted).call('WAIT', 1, 5000)).toBe(1);
  });
});
