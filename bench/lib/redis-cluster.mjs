// A throwaway Redis Cluster of masters only (redis-server and redis-cli from PATH, free loopback ports), for the
// partitioned scenario: partitions spread over its nodes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from './redis-server.mjs';

const run = promisify(execFile);

export async function startRedisCluster({ masters = 3, timeoutMs = 20_000 } = {}) {
  const nodes = [];
  try {
    for (let i = 0; i < masters; i++) {
      // Its nodes.conf lands in its own temp dir: redis-server works in --dir.
      nodes.push(await startRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '5000'] }));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map(n => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + timeoutMs;
    for (const node of nodes) {
      const redis = new Redis(node.port);
      try {
        while (!/cluster_state:ok/.test(await redis.call('CLUSTER', 'INFO'))) {
          if (Date.now() > deadline) throw new Error(`the cluster was not ok within ${timeoutMs} ms`);
          await new Promise(r => setTimeout(r, 50));
        }
      } finally {
        redis.disconnect();
      }
    }
  } catch (err) {
    await Promise.all(nodes.map(n => n.stop()));
    throw err;
  }
  return {
    nodes: nodes.map(n => ({ host: '127.0.0.1', port: n.port })),
    async stop() {
      await Promise.all(nodes.map(n => n.stop()));
    },
  };
}
