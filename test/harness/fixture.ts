import { RedisStreamsClient, type ConnectionOptions, type RedisStreamsClientSettings } from '@nestream/transport';
import { startRedis, type TestRedis } from './redis-server.js';
import type { TestApp } from './nest-app.js';

/** What a spec file shares: its own redis-server, and the apps and clients each test started (closed after it). */
export interface RedisFixture {
  readonly redis: TestRedis;
  readonly apps: TestApp[];
  readonly clients: RedisStreamsClient[];
  /** A client of this file's Redis, closed after the test. */
  client(options?: RedisStreamsClientSettings & { connection?: ConnectionOptions }): RedisStreamsClient;
  /** Pending entries of a stream's group. */
  pending(stream: string, group?: string): Promise<number>;
  /** The dead-letter entries of a stream (`<stream>:dlq`), as field maps. */
  deadLetters(stream: string): Promise<Array<Record<string, string>>>;
}

/** Registers the jest hooks: a redis-server for the file, cleanup after each test. */
export function useRedis(): RedisFixture {
  let redis: TestRedis | undefined;
  const apps: TestApp[] = [];
  const clients: RedisStreamsClient[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map(a => a.close()));
    await Promise.all(clients.splice(0).map(c => c.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const fixture: RedisFixture = {
    get redis() {
      if (!redis) throw new Error('useRedis(): the redis-server starts in beforeAll');
      return redis;
    },
    apps,
    clients,
    client(options = {}) {
      const client = new RedisStreamsClient({ connection: fixture.redis.url, ...options });
      clients.push(client);
      return client;
    },
    async pending(stream, group = 'g') {
      return ((await fixture.redis.client().xpending(stream, group)) as [number])[0];
    },
    async deadLetters(stream) {
      const entries = (await fixture.redis.client().xrange(`${stream}:dlq`, '-', '+')) as [string, string[]][];
      return entries.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    },
  };
  return fixture;
}
