import calculateSlot from 'cluster-key-slot';
import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import type { ClusterConnectionOptions, ConnectionOptions } from '../options/connection.js';

/**
 * A connection the transport sends commands on: one Redis (a plain server, or the master Sentinel names) or a
 * Redis Cluster. Both speak the same commands; a cluster routes each by its key's slot, so a command, script,
 * transaction or pipeline may only touch keys of one slot (see `slotOf`).
 */
export type RedisClient = Redis | Cluster;

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/** The Redis Cluster slot of a key (CRC16 of its hash tag `{...}`, or of the whole key, mod 16384). */
export function slotOf(key: string): number {
  return calculateSlot(key);
}

export function isClusterConnection(connection: ConnectionOptions): connection is ClusterConnectionOptions {
  return typeof connection === 'object' && (connection as { type?: unknown }).type === 'cluster';
}

export type PipelineReplies = Array<[Error | null, unknown]>;

/**
 * Sends commands about several keys together: one pipeline on one Redis; on a cluster one pipeline per slot,
 * all at once (a cluster pipeline may only touch keys of one node, and slots move between nodes). `add` queues
 * an item's commands, which must all be about keys of `keyOf(item)`'s slot; the result holds each item's
 * replies, in order. A pipeline that fails as a whole (connection lost) rejects.
 */
export async function pipelineBySlot<T>(
  redis: RedisClient,
  items: readonly T[],
  keyOf: (item: T) => string,
  add: (pipeline: ChainableCommander, item: T) => void,
): Promise<PipelineReplies[]> {
  const groups = isCluster(redis) ? groupBySlot(items, keyOf) : [[...items]];
  const byItem = new Map<T, PipelineReplies>();
  await Promise.all(
    groups.map(async group => {
      const pipeline = redis.pipeline();
      const counts = group.map(item => {
        const before = pipeline.length;
        add(pipeline, item);
        return pipeline.length - before;
      });
      const replies = ((await pipeline.exec()) ?? []) as PipelineReplies;
      let k = 0;
      group.forEach((item, i) => byItem.set(item, replies.slice(k, (k += counts[i]))));
    }),
  );
  return items.map(item => byItem.get(item) ?? []);
}

/** Items grouped by the slot of their key, in first-seen order (what one cluster command may touch together). */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = slotOf(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}
