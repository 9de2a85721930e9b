import { MAX_PARTITIONS, partitionOf, RedisStreamRecordBuilder } from '@nestream/transport';
import { parsePartitionCount } from '../src/partition-routing.js';

// Hash slots as `CLUSTER KEYSLOT` answers them (redis-server 7.0, cluster-enabled), and the CRC16-XMODEM check
// value of "123456789" (0x31C3): a producer in another language computes the same partition.
const KEYSLOT: Array<[key: string, slot: number]> = [
  ['somekey', 11058],
  ['foo', 12182],
  ['123456789', 0x31c3],
  ['foo{hash_tag}', 2515],
  ['bar{hash_tag}', 2515],
  ['order-42', 9984],
  ['42', 8000],
  ['user{1000}', 11326],
  ['ü', 9552],
];

describe('partitionOf', () => {
  it.each(KEYSLOT)('routes %j by its hash slot (%i) modulo the partition count', (key, slot) => {
    expect(partitionOf(key, 16384)).toBe(slot);
    for (const n of [1, 2, 3, 8, 10, MAX_PARTITIONS]) expect(partitionOf(key, n)).toBe(slot % n);
  });

  it('hashes only the {hash tag} when the key has one, as Redis Cluster does', () => {
    expect(partitionOf('customer{7}:order-1', 8)).toBe(partitionOf('7', 8));
    expect(partitionOf('{}x', 8)).toBe(partitionOf('{}x', 8)); // an empty tag counts the whole key
  });

  it('gives a number key the partition of its decimal string', () => {
    expect(new RedisStreamRecordBuilder({}).setPartitionKey(42).build().options.partitionKey).toBe('42');
    expect(() => new RedisStreamRecordBuilder({}).setPartitionKey(Number.NaN)).toThrow(TypeError);
    expect(() => new RedisStreamRecordBuilder({}).setPartitionKey('')).toThrow(TypeError);
    expect(() => new RedisStreamRecordBuilder({}).setPartitionKey(undefined as unknown as string)).toThrow(TypeError);
  });
});

describe('parsePartitionCount', () => {
  it('reads a stored count, and nothing else', () => {
    expect(parsePartitionCount('8')).toBe(8);
    expect(parsePartitionCount('1024')).toBe(1024);
    for (const bad of [null, '', '0', '1025', '08', '8.0', ' 8', 'eight', '-1']) expect(parsePartitionCount(bad)).toBeUndefined();
  });
});
