import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeConnection, redactUrl, resolveTarget } from '../src/connection.js';

describe('redactUrl', () => {
  it('should hide the password, also in a URL that does not parse', () => {
    expect(redactUrl('redis://ops:s3cret@host:6380/2')).toBe('redis://ops:***@host:6380/2');
    expect(redactUrl('rediss://:s3cret@host')).toBe('rediss://:***@host');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(redactUrl('redis://ops:s3cret@[bad')).toBe('redis://ops:***@[bad');
  });
});

describe('describeConnection', () => {
  it('should describe ioredis options as a URL without the password', () => {
    expect(describeConnection({ host: 'r', port: 6380, username: 'ops', password: 'x', db: 2, tls: {} })).toBe('rediss://ops:***@r:6380/2');
    expect(describeConnection({ password: 'x' })).toBe('redis://:***@127.0.0.1:6379');
    expect(describeConnection({ path: '/run/redis.sock' })).toBe('redis:///run/redis.sock');
    expect(describeConnection({ url: 'rediss://ops:x@r:6380', tls: { servername: 'r' } })).toBe('rediss://ops:***@r:6380');
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
