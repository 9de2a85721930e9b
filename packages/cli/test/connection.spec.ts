import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterTarget, resolveTarget } from '../src/connection.js';

// The CLI describes where it connects with the transport's describeConnection (one copy, @nestream/transport/admin).
describe('the description of a target', () => {
  const described = (url: string) => resolveTarget({ url }, {}).description;

  it('should hide the password, also a lone one and in a URL that does not parse', () => {
    expect(described('redis://ops:s3cret@host:6380/2')).toBe('redis://ops:***@host:6380/2');
    expect(described('rediss://:s3cret@host')).toBe('rediss://:***@host');
    expect(described('redis://s3cret@host')).toBe('redis://***@host');
    expect(described('redis://host:6379')).toBe('redis://host:6379');
    expect(() => resolveTarget({ url: 'redis://ops:s3cret@[bad' }, {})).toThrow('"redis://ops:***@[bad"');
  });

  it('should describe ioredis options from a config file without the password, a Sentinel setup as one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestream-cli-unit-'));
    try {
      const describedConfig = (connection: unknown) => {
        const file = join(dir, 'c.json');
        writeFileSync(file, JSON.stringify({ connection }));
        return resolveTarget({ config: file }, {}).description;
      };
      expect(describedConfig({ host: 'r', port: 6380, username: 'ops', password: 'x', db: 2, tls: {} })).toBe('rediss://ops:***@r:6380/2');
      expect(describedConfig({ password: 'x' })).toBe('redis://:***@127.0.0.1:6379');
      expect(describedConfig({ path: '/run/redis.sock' })).toBe('/run/redis.sock');
      expect(describedConfig({ url: 'rediss://ops:x@r:6380', tls: { servername: 'r' } })).toBe('rediss://ops:***@r:6380');
      expect(describedConfig({ sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster', password: 'x' })).toBe('sentinel master "mymaster"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should read a config file's { url, tls } node as the cluster, its TLS options for every node", () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestream-cli-unit-'));
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ connection: { url: 'rediss://ops:pw@node1:7000', tls: { servername: 'node1' } } }));
      const cluster = clusterTarget(resolveTarget({ config: file }, {}));
      expect(cluster.admin.connection).toEqual({
        type: 'cluster',
        nodes: [{ host: 'node1', port: 7000 }],
        options: { redisOptions: { username: 'ops', password: 'pw', tls: { servername: 'node1' } } },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should read a node found to be one of a cluster as the cluster, credentials kept', () => {
    const cluster = clusterTarget(resolveTarget({ url: 'rediss://ops:s3cret@node1:7000', prefix: 'app:' }, {}));
    expect(cluster.description).toBe('cluster node1:7000');
    expect(cluster.admin.keyPrefix).toBe('app:');
    expect(cluster.admin.connection).toEqual({
      type: 'cluster',
      nodes: [{ host: 'node1', port: 7000 }],
      options: { redisOptions: { username: 'ops', password: 's3cret', tls: {} } },
    });
  });
});

describe('resolveTarget', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'nestream-cli-unit-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should prefer --url, then the config file, then REDIS_URL, then localhost', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ connection: 'redis://from-config:1', keyPrefix: 'cfg:', deadLetterSuffix: '.dead' }));
    const env = { REDIS_URL: 'redis://from-env:2' };
    expect(resolveTarget({ url: 'redis://from-flag:3', config: file }, env).description).toBe('redis://from-flag:3');
    const fromConfig = resolveTarget({ config: file, prefix: 'flag:' }, env);
    expect([fromConfig.description, fromConfig.admin.keyPrefix, fromConfig.admin.deadLetter!.key!('s')]).toEqual(['redis://from-config:1', 'flag:', 's.dead']);
    expect(resolveTarget({}, env).description).toBe('redis://from-env:2');
    expect(resolveTarget({}, {}).description).toBe('redis://127.0.0.1:6379');
  });
});
