import { InvalidOptionsError } from '../src/errors/invalid-options.error.js';
import { StreamKeys } from '../src/keys.js';
import type { Route } from '../src/consumer/route.js';
import type { ResolvedServerOptions } from '../src/options/server.js';
import { slotOf } from '../src/redis/redis-client.js';
import { checkKeyLayout, hashTagOf } from '../src/server/key-layout.js';

// Issue 19, item 1: the keys of ordered partitions name the group, unambiguously.

const keys = new StreamKeys('');

/** The routes of one ordered partitioned pattern with `count` partitions, dead letters in `deadLetterKey(stream)`. */
function orderedRoutes(pattern: string, count: number, deadLetterKey = (s: string) => `${s}:dlq`): Map<string, Route> {
  const routes = new Map<string, Route>();
  keys.partitions(pattern, count).forEach((stream, index) => {
    routes.set(stream, { stream, pattern, isEvent: true, ordered: true, batch: false, partition: { index, count }, deadLetterKey: deadLetterKey(stream) } as Route);
  });
  return routes;
}

const options = (o: Partial<Pick<ResolvedServerOptions, 'group' | 'connection'>> = {}) =>
  ({ group: 'g', connection: 'redis://localhost', ...o }) as Pick<ResolvedServerOptions, 'group' | 'connection'>;

describe('StreamKeys', () => {
  it('gives each group its own lease and generation on a partition, in the partition\'s slot', () => {
    const stream = keys.partition('orders', 3);
    expect(keys.partitionOwner(stream, 'billing')).toBe('orders:{3}:owner:billing');
    expect(keys.partitionGeneration(stream, 'billing')).toBe('orders:{3}:owner-generation:billing');
    expect(keys.partitionOwner(stream, 'shipping')).not.toBe(keys.partitionOwner(stream, 'billing'));
    for (const key of [keys.partitionOwner(stream, 'a{b}c'), keys.partitionGeneration(stream, 'x:{9}')]) expect(slotOf(key)).toBe(slotOf(stream));
  });

  it('keeps membership sets of groups and patterns apart whatever ":" they contain', () => {
    expect(keys.partitionMembers('a:b', 'c')).toBe('nestream:partition-consumers:3:a:b:c');
    expect(keys.partitionMembers('a', 'b:c')).toBe('nestream:partition-consumers:1:a:b:c');
    // Lengths in UTF-8 bytes: what redis-cli shows.
    expect(keys.partitionMembers('é', 'p')).toBe('nestream:partition-consumers:2:é:p');
    expect(new StreamKeys('app.').partitionMembers('g', 'p')).toBe('app.nestream:partition-consumers:1:g:p');
  });
});

describe('checkKeyLayout', () => {
  it('accepts ordered partitions of any group name', () => {
    for (const group of ['g', 'a:b', '{0}:owner:x', 'x:{1}']) expect(() => checkKeyLayout(orderedRoutes('orders', 4), keys, options({ group }))).not.toThrow();
  });

  it('refuses an ordered pattern containing "}:owner": its leases could be another pattern\'s and group\'s', () => {
    // Pattern 'a:{0}:owner' + group 'g' would lease 'a:{0}:owner:{1}:owner:g', which is pattern 'a' + group '{1}:owner:g'.
    expect(() => checkKeyLayout(orderedRoutes('a:{0}:owner', 2), keys, options())).toThrow(InvalidOptionsError);
    expect(() => checkKeyLayout(orderedRoutes('a:{0}:owner', 2), keys, options())).toThrow('may not contain "}:owner"');
  });

  it('refuses a key with two uses', () => {
    expect(() => checkKeyLayout(orderedRoutes('p', 2, s => `${s}:owner-generation:g`), keys, options())).toThrow(
      'the key "p:{0}:owner-generation:g" would be both the dead-letter stream of p:{0} and the lease generation of p:{0} for group "g"',
    );
  });

  it('finds the hash tag as Redis does (CLUSTER KEYSLOT hashes `a{}b:{0}` whole)', () => {
    expect(hashTagOf('orders:{3}')).toBe('3');
    expect(hashTagOf('{orders}.placed:{3}:owner:g')).toBe('orders');
    expect(hashTagOf('a{}b:{0}')).toBeUndefined();
    expect(hashTagOf('a{b')).toBeUndefined();
    expect(hashTagOf('plain')).toBeUndefined();
  });

  it('refuses, on a Redis Cluster, lease keys outside their partition\'s slot (an empty hash tag)', () => {
    const cluster = options({ connection: { type: 'cluster', nodes: ['redis://localhost:7000'] } as never });
    expect(() => checkKeyLayout(orderedRoutes('a{}b', 2), keys, cluster)).toThrow('must hash to its slot');
    expect(() => checkKeyLayout(orderedRoutes('a{}b', 2), keys, options())).not.toThrow();
    expect(() => checkKeyLayout(orderedRoutes('{orders}.placed', 2), keys, cluster)).not.toThrow();
  });
});
