import { StreamsAdmin } from '@nestream/transport/admin';
import { runCli } from '../cli/cli.js';
import { startRedisCluster, type TestRedisCluster } from '../harness/redis-cluster.js';
import { uniqueName } from '../harness/wait.js';

// Operating a cluster (issue 11): StreamsAdmin and the `nestream` CLI read every master (SCAN per node), pipeline
// per slot, and redrive within a slot; tail follows one slot's streams and says so otherwise.

let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ replicasPerMaster: 0 });
});
afterAll(async () => {
  await cluster?.stop();
});

/** Two hash-tagged streams on different masters, each with a group, one entry pending and two dead letters. */
async function twoStreamsOnTwoMasters(): Promise<string[]> {
  const redis = cluster.client();
  const streams: string[] = [];
  const masters = new Set<number>();
  for (let i = 0; streams.length < 2; i++) {
    const stream = `{${uniqueName('adm')}}.s${i}`;
    const master = await cluster.masterOf(stream);
    if (masters.has(master)) continue;
    masters.add(master);
    streams.push(stream);
  }
  for (const stream of streams) {
    await redis.xadd(stream, '*', 'v', '1', 'data', '{"n":1}');
    await redis.xgroup('CREATE', stream, 'g', '0');
    await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', stream, '>');
    for (const n of [2, 3]) {
      await redis.xadd(`${stream}:dlq`, '*', 'v', '1', 'data', `{"n":${n}}`, 'dlq.stream', stream, 'dlq.id', `1-${n}`, 'dlq.group', 'g', 'dlq.reason', 'max-attempts', 'dlq.attempts', '5');
    }
  }
  return streams;
}

describe('StreamsAdmin on a Redis Cluster', () => {
  it('shows the streams of every master, with their groups, pending entries and dead letters', async () => {
    const streams = await twoStreamsOnTwoMasters();
    const admin = new StreamsAdmin({ connection: cluster.connection });
    try {
      const { streams: shown } = await admin.status();
      for (const stream of streams) {
        const row = shown.find(s => s.key === stream);
        expect(row).toMatchObject({ length: 1, deadLetter: { key: `${stream}:dlq`, length: 2 } });
        expect(row!.groups).toEqual([expect.objectContaining({ name: 'g', pending: 1, consumers: [expect.objectContaining({ name: 'c1', pending: 1 })] })]);
      }
      // A dead-letter stream shows in its source's row, not on its own.
      expect(shown.map(s => s.key)).not.toContain(`${streams[0]}:dlq`);
    } finally {
      await admin.close();
    }
  });

  it('redrives dead letters back into their stream (one slot: the script is atomic there too)', async () => {
    const [stream] = await twoStreamsOnTwoMasters();
    const admin = new StreamsAdmin({ connection: cluster.connection });
    try {
      const result = await admin.deadLetters.redrive(stream, { all: true });
      expect(result.moved).toHaveLength(2);
      const redis = cluster.client();
      expect(await redis.xlen(`${stream}:dlq`)).toBe(0);
      expect(await redis.xlen(stream)).toBe(3);
    } finally {
      await admin.close();
    }
  });

  it('tails one stream, and refuses streams of several slots with a clear error', async () => {
    const streams = await twoStreamsOnTwoMasters();
    const admin = new StreamsAdmin({ connection: cluster.connection });
    try {
      const controller = new AbortController();
      const seen: string[] = [];
      const following = (async () => {
        for await (const entry of admin.tail([streams[0]], { signal: controller.signal, blockMs: 200, onStart: () => void cluster.client().xadd(streams[0], '*', 'v', '1', 'data', '{"n":9}') })) {
          seen.push(entry.message ? JSON.stringify(entry.message.data) : '');
          controller.abort();
        }
      })();
      await following;
      expect(seen).toEqual(['{"n":9}']);
      await expect(admin.tail(streams).next()).rejects.toThrow('on a Redis Cluster, tail follows streams of one hash slot at a time');
    } finally {
      await admin.close();
    }
  });
});

describe('nestream --cluster', () => {
  it('reads every master from one node given as --url', async () => {
    const streams = await twoStreamsOnTwoMasters();
    const [seed] = cluster.nodes;
    const result = await runCli(['status', '--json', '--cluster', '--url', `redis://${seed.host}:${seed.port}`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const keys = (JSON.parse(result.stdout) as { streams: Array<{ key: string }> }).streams.map(s => s.key);
    expect(keys).toEqual(expect.arrayContaining(streams));
  });

  it('without --cluster, finds that the node is one of a cluster and reads every master, saying so', async () => {
    const streams = await twoStreamsOnTwoMasters();
    const other = await cluster.masterOf(streams[1]);
    const seed = cluster.nodes.find(n => n.port !== other)!;
    const url = `redis://${seed.host}:${seed.port}`;
    const status = await runCli(['status', '--json', '--url', url]);
    expect(status.stderr).toBe(`nestream: ${url} is a node of a Redis Cluster: reading the whole cluster (--cluster says so up front)\n`);
    expect(status.code).toBe(0);
    const keys = (JSON.parse(status.stdout) as { streams: Array<{ key: string }> }).streams.map(s => s.key);
    expect(keys).toEqual(expect.arrayContaining(streams));

    // A stream of another master's slot: was `Redis refused: MOVED ...`.
    const list = await runCli(['dlq', 'list', streams[1], '--json', '--url', url]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { entries: unknown[] }).entries).toHaveLength(2);
  });

  it('without INFO allowed, a MOVED says to pass --cluster', async () => {
    const streams = await twoStreamsOnTwoMasters();
    const other = await cluster.masterOf(streams[1]);
    const seed = cluster.nodes.find(n => n.port !== other)!;
    const node = cluster.node(seed.port);
    await node.acl('SETUSER', 'noinfo', 'on', '>pw', '~*', '+@all', '-info');
    const result = await runCli(['dlq', 'list', streams[1], '--url', `redis://noinfo:pw@${seed.host}:${seed.port}`]);
    expect(result.code).toBe(1);
    // (ioredis also prints that its ready check is skipped, INFO being denied.)
    expect(result.stderr).toMatch(/^error: Redis refused: MOVED \d+ \S+ \(redis:\/\/noinfo:\*\*\*@127\.0\.0\.1:\d+ is a node of a Redis Cluster: pass --cluster\)$/m);
  });
});
