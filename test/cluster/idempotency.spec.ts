import { RedisStreamRecordBuilder } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { uniqueName } from '../harness/wait.js';

// Idempotency keys on a Redis Cluster: the key's record is in the stream's slot (the stream's hash tag, or its
// whole name as the tag), so the one script that checks it and adds the entry runs on one node.
const fx = useRedisCluster();

const keyed = (data: unknown, key: string) => new RedisStreamRecordBuilder(data).setIdempotencyKey(key).build();

describe('idempotency keys on a Redis Cluster', () => {
  it('adds one entry per key on streams of every master, with and without a hash tag, durably too', async () => {
    const tag = uniqueName('idem');
    const tagged = [...(await fx.cluster.keysOnEveryMaster(i => `{${tag}${i}}.payments`)).values()];
    const untagged = [uniqueName('payments'), uniqueName('refunds'), uniqueName('charges')];
    for (const durability of [false, { replicas: 1, timeoutMs: 5000 }] as const) {
      const client = fx.client({ durability });
      for (const stream of [...tagged, ...untagged]) {
        const key = `order-1:${durability ? 'durable' : 'plain'}`;
        const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => lastValueFrom(client.emit<string>(stream, keyed({ i }, key)))));
        expect(new Set(ids).size).toBe(1);
        const many = await client.emitMany(stream, [keyed({}, key), keyed({}, `${key}:other`)]);
        expect(many[0]).toBe(ids[0]);
      }
    }
    const redis = fx.redis();
    for (const stream of [...tagged, ...untagged]) expect(await redis.xlen(stream)).toBe(4);
  });

  it('works on a partitioned pattern: the record is in the partition\'s slot', async () => {
    const pattern = uniqueName('orders');
    const client = fx.client({ partitions: { [pattern]: 4 } });
    const record = (n: number) => new RedisStreamRecordBuilder({ n }).setPartitionKey(`customer-${n % 3}`).setIdempotencyKey(`order-${n}`).build();
    for (let round = 0; round < 2; round++) for (let n = 0; n < 12; n++) await lastValueFrom(client.emit(pattern, record(n)));
    const redis = fx.redis();
    let total = 0;
    for (let i = 0; i < 4; i++) total += await redis.xlen(`${pattern}:{${i}}`);
    expect(total).toBe(12);
  });
});
