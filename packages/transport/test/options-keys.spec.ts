import { DEFAULT_CLIENT_OPTIONS, InvalidOptionsError, RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';

// Problem 1 of issue 14: unknown keys and Nest's Redis option shape were silently ignored.

const server = (options: unknown) => () => new RedisStreamsServer(options as never);
const client = (options: unknown) => () => new RedisStreamsClient(options as never);

describe('unknown option keys', () => {
  it.each([
    ['server', server({ group: 'g', conection: 'redis://127.0.0.1:6390' }), 'conection', 'connection'],
    ['client', client({ conection: 'redis://127.0.0.1:6390' }), 'conection', 'connection'],
    ['client', client({ requestTimeout: 100 }), 'requestTimeout', 'requestTimeoutMs'],
    ['server', server({ group: 'g', keyprefix: 'a.' }), 'keyprefix', 'keyPrefix'],
    ['server', server({ group: 'g', retry: { maxAttempt: 3 } }), 'retry.maxAttempt', 'maxAttempts'],
    ['server', server({ group: 'g', retry: { backoff: { delay: 5 } } }), 'retry.backoff.delay', 'delayMs'],
    ['server', server({ group: 'g', claim: { minIdle: 1000 } }), 'claim.minIdle', 'minIdleMs'],
    ['server', server({ group: 'g', deadLetter: { maxlen: 10 } }), 'deadLetter.maxlen', 'maxLen'],
    ['server', server({ group: 'g', consumerCleanup: { idleMS: 10 } }), 'consumerCleanup.idleMS', 'idleMs'],
  ])('%s: rejects "%s" naming it and the closest known key', (_, make, key, closest) => {
    expect(make).toThrow(InvalidOptionsError);
    expect(make).toThrow(`"${key}": unknown option; did you mean "${closest}"?`);
  });

  it('lists the known keys when nothing is close', () => {
    expect(server({ group: 'g', claim: { xyz: 1 } })).toThrow('"claim.xyz": unknown option; the options here are intervalMs, minIdleMs, batchSize');
  });

  it.each([
    ['retryAttempts', 'reconnects on its own'],
    ['retryDelay', 'reconnects on its own'],
    ['wildcards', 'no wildcard subscriptions'],
    ['retryStrategy', 'put it under connection: { retryStrategy, ... }'],
    ['lazyConnect', 'put it under connection'],
    ['url', 'connection: "redis://..."'],
  ])('rejects %s (Nest Redis transport or ioredis key) by name with a hint', (key, hint) => {
    for (const make of [server({ group: 'g', [key]: 1 }), client({ [key]: 1 })]) {
      expect(make).toThrow(`"${key}": not an option of this transport`);
      expect(make).toThrow(hint);
    }
  });
});

describe("Nest's Redis option shape (host, port, password, ...)", () => {
  it('becomes the connection on server and client', () => {
    const inline = { host: '10.0.0.7', port: 6390, username: 'app', password: 'pw', db: 2, tls: {} };
    expect(new RedisStreamsServer({ group: 'g', ...inline }).options.connection).toEqual(inline);
    expect(new RedisStreamsClient(inline).options.connection).toEqual(inline);
  });

  it('takes a port given as a string (as process.env gives it)', () => {
    expect(new RedisStreamsClient({ host: 'redis', port: '6390' as never }).options.connection).toEqual({ host: 'redis', port: 6390 });
  });

  it('may not be combined with connection: one of them would be ignored', () => {
    expect(client({ connection: 'redis://a:6379', port: 6390 })).toThrow('"port": give the connection either as connection or as port');
  });

  it.each([
    [{ port: 0 }, 'port'],
    [{ port: 'abc' }, 'port'],
    [{ host: '' }, 'host'],
    [{ db: -1 }, 'db'],
    [{ tls: true }, 'tls'],
    [{ family: 5 }, 'family'],
  ])('rejects %j naming "%s"', (options, name) => {
    expect(client(options)).toThrow(`"${name}"`);
  });

  it('never shows a password in an error', () => {
    const make = client({ password: 12345 });
    expect(make).toThrow('"password": must be a string, got a number');
    expect(make).not.toThrow(/12345/);
  });
});

describe('client defaults', () => {
  it('are DEFAULT_CLIENT_OPTIONS', () => {
    expect(new RedisStreamsClient().options).toMatchObject(DEFAULT_CLIENT_OPTIONS);
    expect(DEFAULT_CLIENT_OPTIONS).toMatchObject({ connectTimeoutMs: 5000, writeTimeoutMs: 5000, requestTimeoutMs: 30_000 });
  });
});
