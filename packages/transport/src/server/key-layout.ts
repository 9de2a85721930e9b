import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { StreamKeys } from '../keys.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { isClusterConnection } from '../redis/redis-client.js';
import type { Route } from '../consumer/route.js';

/**
 * Checks at listen() that the keys this server names cannot be another key of the transport:
 * - an ordered partitioned pattern may not contain `}:owner`: with it, `<partition>:owner:<group>` (a group's
 *   lease) could equal the lease or generation key of another pattern and group (pattern `a:{0}:owner` and group
 *   `g` against pattern `a` and group `{0}:owner:g`, say). Without it, a lease key splits one way only;
 * - no two of its keys (streams, dead-letter streams, leases, generations, membership sets, partition counts)
 *   are one key: a custom deadLetter.key, or a pattern that looks like another's key, could make them so;
 * - on a Redis Cluster, each lease key and its generation counter hash to the partition's slot (the take script
 *   names both): they start with the partition's name, so they do whenever that name has a hash tag; a pattern
 *   with an empty one first (`a{}b`) makes Redis hash whole names, each key to a slot of its own.
 * Throws InvalidOptionsError naming the pattern or both uses of the key.
 */
export function checkKeyLayout(routes: Map<string, Route>, keys: StreamKeys, options: Pick<ResolvedServerOptions, 'group' | 'connection'>): void {
  const uses = new Map<string, string>();
  let where = '';
  const use = (key: string, what: string) => {
    const other = uses.get(key);
    if (other !== undefined && other !== what) {
      throw new InvalidOptionsError(where, `the key "${key}" would be both ${other} and ${what}: rename the pattern (or deadLetter.key) so each key has one use`);
    }
    uses.set(key, what);
  };
  const cluster = isClusterConnection(options.connection);
  for (const route of routes.values()) {
    where = `@${route.isEvent ? 'Event' : 'Message'}Pattern('${route.pattern}')`;
    use(route.stream, `the stream of ${where}`);
    if (route.deadLetterKey !== undefined) use(route.deadLetterKey, `the dead-letter stream of ${route.stream}`);
    if (!route.partition) continue;
    use(keys.partitionCount(route.pattern), `the partition count of ${where}`);
    if (!route.ordered) continue;
    if (route.pattern.includes('}:owner')) {
      throw new InvalidOptionsError(
        `${where} extras.ordered`,
        `an ordered partitioned pattern may not contain "}:owner": its partitions' lease keys (<partition>:owner:<group>) could then be another pattern's and group's. Rename the pattern`,
      );
    }
    const lease = keys.partitionOwner(route.stream, options.group);
    const generation = keys.partitionGeneration(route.stream, options.group);
    use(lease, `the lease of ${route.stream} for group "${options.group}"`);
    use(generation, `the lease generation of ${route.stream} for group "${options.group}"`);
    use(keys.partitionMembers(options.group, route.pattern), `the membership set of ${where} for group "${options.group}"`);
    if (cluster && hashTagOf(route.stream) === undefined) {
      throw new InvalidOptionsError(
        `${where} extras.ordered`,
        `on a Redis Cluster a partition's lease keys must hash to its slot, but "${route.stream}" has no hash tag Redis uses (an empty "{}" comes first), so "${lease}" hashes elsewhere. Remove the empty "{}" from the pattern`,
      );
    }
  }
}

/**
 * The part of a key Redis Cluster hashes, as Redis finds it: between the first `{` and the first `}` after it,
 * if not empty; undefined when the whole key is hashed. (Written out here because the `cluster-key-slot`
 * package hashes a key whose first tag is empty, `a{}b:{0}`, by a later part, where Redis hashes it whole.)
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}
