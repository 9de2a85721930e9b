import type { ChildProcess } from 'node:child_process';
import { RedisStreamRecordBuilder, partitionOf } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { sigkill, startChild } from '../harness/child.js';
import { uniqueName, waitFor } from '../harness/wait.js';

/**
 * The crash window of ordered partitions (docs/reference/delivery-guarantees.md): an entry's XACK is written
 * to the connection before the partition's next entry runs, and waited for only in batches. A SIGKILL does not
 * take back what was written, so the partition's next owner re-runs at most the entry that was running, right
 * after itself: with handlers faster than a round trip (many acks in flight at any moment), nothing else.
 */
const fx = useRedis();
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(sigkill));
});

const keyed = (data: unknown, key: string) => new RedisStreamRecordBuilder(data).setPartitionKey(key).build();

/**
 * A survivor and a victim share 4 ordered partitions; 40 keys x 150 rounds are emitted; the victim is SIGKILLed
 * a quarter of the way through. Returns each key's handled seqs, in the order they were handled.
 */
async function crashMidRun(env: Record<string, string> = {}) {
  const pattern = uniqueName('crash-window');
  const partitions = 4;
  const redis = fx.redis.client();
  // Handlers that return as soon as they recorded the event: many acks are in flight whenever the kill lands.
  const start = (name: string) =>
    startChild('partition-consumer.mjs', [fx.redis.url, pattern, name, String(partitions), '1000', '100'], { PARTITION_HANDLER_MS: '0', ...env });
  const survivor = await start('survivor');
  children.push(survivor);
  await waitFor(async () => (await redis.get(`${pattern}:{${partitions - 1}}:owner:g`)) === 'survivor', 'the survivor owning the partitions');
  const victim = await start('victim');
  children.push(victim);
  const ownersOf = async () => Promise.all(Array.from({ length: partitions }, (_, i) => redis.get(`${pattern}:{${i}}:owner:g`)));
  await waitFor(async () => (await ownersOf()).filter(o => o === 'victim').length === 2, 'the victim owning 2 of the 4 partitions');
  const victims = (await ownersOf()).flatMap((o, i) => (o === 'victim' ? [i] : []));

  const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
  const rounds = 150;
  const client = fx.client();
  for (let seq = 0; seq < rounds; seq += 10) {
    await client.emitMany(pattern, Array.from({ length: 10 }, (_, r) => keys.map(key => keyed({ key, seq: seq + r }, key))).flat());
  }
  const recorded = async () => (await Promise.all(keys.map(k => redis.llen(`order:${pattern}:${k}`)))).reduce((a, b) => a + b, 0);
  // Mid-run: a quarter handled, the victim's partitions far from drained.
  await waitFor(async () => (await recorded()) >= (keys.length * rounds) / 4, 'a quarter of the events handled');
  const before = await recorded();
  await sigkill(victim);
  expect(before).toBeLessThan((keys.length * rounds) / 2);

  const lists = async () => Promise.all(keys.map(async k => (await redis.lrange(`order:${pattern}:${k}`, 0, -1)).map(Number)));
  await waitFor(async () => (await lists()).every(l => new Set(l).size === rounds), 'every event handled (0 lost)', 60_000);
  await waitFor(async () => {
    let pending = 0;
    for (let i = 0; i < partitions; i++) pending += await fx.pending(`${pattern}:{${i}}`);
    return pending === 0;
  }, 'nothing pending');

  return { keys, rounds, partitions, victims, all: await lists() };
}

describe('ordered partitions, a consumer SIGKILLed mid-run', () => {
  it('loses nothing, keeps the order per key, and re-runs only the entry each partition of the killed consumer was running', async () => {
    const { keys, rounds, partitions, victims, all } = await crashMidRun();
    const rerunsByPartition = new Map<number, number>();
    keys.forEach((key, k) => {
      const list = all[k];
      // 0 order violations: without repeats of an entry right after itself, each key's list is 0..rounds-1.
      const deduplicated = list.filter((n, i) => i === 0 || n !== list[i - 1]);
      expect({ key, list: deduplicated }).toEqual({ key, list: Array.from({ length: rounds }, (_, n) => n) });
      const p = partitionOf(key, partitions);
      rerunsByPartition.set(p, (rerunsByPartition.get(p) ?? 0) + list.length - deduplicated.length);
    });
    // Re-runs: at most the entry running on each of the victim's partitions; none on the survivor's.
    const beyondWindow = Array.from({ length: partitions }, (_, p) => ({ partition: p, reruns: rerunsByPartition.get(p) ?? 0 }))
      .filter(({ partition, reruns }) => reruns > (victims.includes(partition) ? 1 : 0));
    expect(beyondWindow).toEqual([]);
  });

  it('with ackBatch 16: loses nothing, keeps the order per key, and re-runs at most 16 entries of each partition of the killed consumer, in order', async () => {
    const ackBatch = 16;
    // Handlers that return before Redis answers their record: a partition's entries run back to back and their
    // acks are written 16 at a time.
    const { keys, rounds, partitions, victims, all } = await crashMidRun({ PARTITION_HANDLER_MS: '-1', PARTITION_ACK_BATCH: String(ackBatch) });
    const rerunsByPartition = new Map<number, number>();
    keys.forEach((key, k) => {
      const p = partitionOf(key, partitions);
      rerunsByPartition.set(p, (rerunsByPartition.get(p) ?? 0) + rerunsIn(key, all[k], rounds));
    });
    const beyondWindow = Array.from({ length: partitions }, (_, p) => ({ partition: p, reruns: rerunsByPartition.get(p) ?? 0 }))
      .filter(({ partition, reruns }) => reruns > (victims.includes(partition) ? ackBatch : 0));
    expect(beyondWindow).toEqual([]);
    console.info(`ackBatch ${ackBatch}: re-runs by partition ${JSON.stringify(Object.fromEntries(rerunsByPartition))}, the victim's partitions ${victims.join(', ')}`);
  });
});

const upTo = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/**
 * A key's handled seqs, in order, with a crash re-run in them: 0..a, then b..rounds-1 with b <= a (the re-run
 * b..a, in order, before anything newer); at most one such rewind. Returns how many entries were re-run.
 */
function rerunsIn(key: string, list: number[], rounds: number): number {
  const rewind = list.findIndex((n, i) => i > 0 && n <= list[i - 1]);
  const expected = rewind < 0 ? upTo(0, rounds) : [...upTo(0, list[rewind - 1] + 1), ...upTo(list[rewind], rounds)];
  expect({ key, list }).toEqual({ key, list: expected });
  return rewind < 0 ? 0 : list[rewind - 1] - list[rewind] + 1;
}
