import type { ChildProcess } from 'node:child_process';
import { RedisStreamsClient, type RedisStreamsClientSettings } from '@nestream/transport';
import type { Cluster } from 'ioredis';
import { sigkill } from './child.js';
import type { TestApp } from './nest-app.js';
import { startRedisCluster, type RedisClusterOptions, type TestRedisCluster } from './redis-cluster.js';

/** What a cluster spec file shares: its own Redis Cluster, and what each test started (closed after it). */
export interface ClusterFixture {
  readonly cluster: TestRedisCluster;
  /** The transport's `connection` option for the cluster. */
  readonly connection: TestRedisCluster['connection'];
  readonly apps: TestApp[];
  readonly clients: RedisStreamsClient[];
  readonly children: ChildProcess[];
  /** A transport client of the cluster, closed after the test. */
  client(options?: RedisStreamsClientSettings): RedisStreamsClient;
  /** A plain ioredis Cluster client for looking at what the cluster holds (closed with the cluster). */
  redis(): Cluster;
  /** Pending entries of a stream's group. */
  pending(stream: string, group?: string): Promise<number>;
  /** The dead-letter entries of a stream (`<stream>:dlq`), as field maps. */
  deadLetters(stream: string): Promise<Array<Record<string, string>>>;
}

/** Registers the jest hooks: a Redis Cluster for the file, cleanup after each test. */
export function useRedisCluster(options: RedisClusterOptions = {}): ClusterFixture {
  let cluster: TestRedisCluster | undefined;
  let inspector: Cluster | undefined;
  const apps: TestApp[] = [];
  const clients: RedisStreamsClient[] = [];
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster(options);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(sigkill));
    await Promise.all(apps.splice(0).map(a => a.close()));
    await Promise.all(clients.splice(0).map(c => c.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const fixture: ClusterFixture = {
    get cluster() {
      if (!cluster) throw new Error('useRedisCluster(): the cluster starts in beforeAll');
      return cluster;
    },
    get connection() {
      return fixture.cluster.connection;
    },
    apps,
    clients,
    children,
    client(settings = {}) {
      const client = new RedisStreamsClient({ connection: fixture.connection, ...settings });
      clients.push(client);
      return client;
    },
    redis() {
      return (inspector ??= fixture.cluster.client());
    },
    async pending(stream, group = 'g') {
      return ((await fixture.redis().xpending(stream, group)) as [number])[0];
    },
    async deadLetters(stream) {
      const entries = (await fixture.redis().xrange(`${stream}:dlq`, '-', '+')) as [string, string[]][];
      return entries.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    },
  };
  return fixture;
}
