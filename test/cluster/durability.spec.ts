import { DurabilityError, RedisStreamsClient, type RedisStreamsClientSettings } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { startRedisCluster, type TestRedisCluster } from '../harness/redis-cluster.js';
import { uniqueName } from '../harness/wait.js';

// Durable emits (issue 11, item 2) on a Redis Cluster: the writes and their WAIT go to the node of the stream's
// slot, together, and follow a slot that migrates (ASK) or moved (MOVED). 3 masters with a replica each.

let cluster: TestRedisCluster;
const clients: RedisStreamsClient[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.close()));
});
afterAll(async () => {
  await cluster?.stop();
});

function client(settings: RedisStreamsClientSettings = {}): RedisStreamsClient {
  const c = new RedisStreamsClient({ connection: cluster.connection, durability: { replicas: 1, timeoutMs: 5000 }, ...settings });
  clients.push(c);
  return c;
}

/** The port of the replica of a master. */
async function replicaOf(master: number): Promise<number> {
  for (const { port } of cluster.nodes) {
    const role = (await cluster.node(port).call('ROLE')) as [string, string, number];
    if (role[0] === 'slave' && role[2] === master) return port;
  }
  throw new Error(`no replica of ${master}`);
}

/** Whether a node holds the entry (a replica is read after READONLY). */
async function holds(port: number, stream: string, id: string): Promise<boolean> {
  const node = cluster.node(port);
  if (((await node.call('ROLE')) as [string])[0] === 'slave') await node.call('READONLY');
  return ((await node.xrange(stream, id, id)) as unknown[]).length === 1;
}

/** A hash-tagged stream on each master. */
async function streamOnEveryMaster(): Promise<Map<number, string>> {
  const masters = await cluster.masters();
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < masters.length; i++) {
    const stream = `{${uniqueName('durable')}}.s${i}`;
    const master = await cluster.masterOf(stream);
    if (!byMaster.has(master)) byMaster.set(master, stream);
  }
  return byMaster;
}

describe('durable emits on a Redis Cluster', () => {
  it('resolve for streams on every master at once, each entry on its master and its replica', async () => {
    const streams = await streamOnEveryMaster();
    const c = client();
    // One turn: emits and an emitMany to three streams on three nodes (one pipeline and one WAIT per stream).
    const sent = [...streams.values()].map(stream => ({
      stream,
      ids: Promise.all([1, 2, 3].map(n => lastValueFrom(c.emit(stream, { n })) as Promise<string>)),
      many: c.emitMany(stream, Array.from({ length: 300 }, (_, n) => ({ n }))),
    }));
    for (const [master, stream] of streams) {
      const { ids, many } = sent.find(s => s.stream === stream)!;
      const replica = await replicaOf(master);
      for (const id of [...(await ids), (await many)[0], (await many)[299]]) {
        expect(await holds(master, stream, id)).toBe(true);
        expect(await holds(replica, stream, id)).toBe(true);
      }
    }
  });

  it("follow a stream's slot while it migrates (ASK) and after it moved (MOVED)", async () => {
    const stream = `{${uniqueName('moving')}}.s`;
    const c = client();
    await lastValueFrom(c.emit(stream, { n: 0 })); // the client knows where the slot is
    const source = await cluster.masterOf(stream);
    const target = (await cluster.masters()).find(m => m !== source)!;
    const targetReplica = await replicaOf(target);
    let whileMigrating: string | undefined;
    await cluster.moveSlotOf(stream, target, {
      whileMigrating: async () => {
        // The stream is on the target already; the source answers ASK.
        whileMigrating = (await lastValueFrom(c.emit(stream, { n: 1 }))) as string;
      },
    });
    // The client's slot map still names the source, which now answers MOVED.
    const afterMove = (await lastValueFrom(c.emit(stream, { n: 2 }))) as string;
    for (const id of [whileMigrating!, afterMove]) {
      expect(await holds(target, stream, id)).toBe(true);
      expect(await holds(targetReplica, stream, id)).toBe(true);
    }
    expect(await cluster.node(target).xlen(stream)).toBe(3);
  });

  it("reject with DurabilityError when the stream's master has no replica answering", async () => {
    const stream = `{${uniqueName('lonely')}}.s`;
    const c = client({ durability: { replicas: 1, timeoutMs: 300 } });
    await lastValueFrom(c.emit(stream, { n: 0 }));
    const master = await cluster.masterOf(stream);
    const replica = cluster.node(await replicaOf(master));
    const pid = Number(/process_id:(\d+)/.exec((await replica.info('server')) as string)?.[1]);
    process.kill(pid, 'SIGSTOP');
    let error: unknown;
    try {
      error = await lastValueFrom(c.emit(stream, { n: 1 })).catch((err: unknown) => err);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).message).toContain('only 0 of 1 replica confirmed it within 300 ms');
    expect(await holds(master, stream, (error as DurabilityError).ids[0])).toBe(true);
  });
});
