import { DEFAULT_CLIENT_OPTIONS, InvalidOptionsError, RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';

// Problem 1 of issue 14: unknown keys and Nest's Redis option shape were silently ignored.

const server = (options: unknown) => () => new RedisStreamsServer(options as never);
const client = (options: unknown) => () => new RedisStreamsClient(options as never);

describe('unknown option keys', () => {
  it.each([
    ['server', 'conection', 'connection', server({ group: 'g', conection: 'redis://127.0.0.1:6390' })],
    ['client', 'conection', 'connection', client({ conection: 'redis://127.0.0.1:6390' })],
    ['client', 'requestTimeout', 'requestTimeoutMs', client({ requestTimeout: 100 })],
    ['server', 'keyprefix', 'keyPrefix', server({ group: 'g', keyprefix: 'a.' })],
    ['server', 'retry.maxAttempt', 'maxAttempts', server({ group: 'g', retry: { maxAttempt: 3 } })],
    ['server', 'retry.backoff.delay', 'delayMs', server({ group: 'g', retry: { backoff: { delay: 5 } } })],
    ['server', 'claim.minIdle', 'minIdleMs', server({ group: 'g', claim: { minIdle: 1000 } })],
    ['server', 'deadLetter.maxlen', 'maxLen', server({ group: 'g', deadLetter: { maxlen: 10 } })],
    ['server', 'consumerCleanup.idleMS', 'idleMs', server({ group: 'g', consumerCleanup: { idleMS: 10 } })],
  ])('%s: rejects "%s" naming it and suggesting "%s"', (_, key, closest, make) => {
    expect(make).toThrow(InvalidOptionsError);
    expect(make).toThrow(`"${key}": unknown option; did you mean "${closest}"?`);
  });

  it('lists the known keys when nothing is close', () => {
    expect(server({ group: 'g', claim: { xyz: 1 } })).toThrow('"claim.xyz": unknown option; the options here are intervalMs, minIdleMs, requestMinIdleMs, batchSize');
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
    expect(new RedisStreamsClient().options.partitions).toEqual({});
  });

  it('check the partitions option: counts from 1 to 1024 by pattern', () => {
    expect(new RedisStreamsClient({ partitions: { 'orders.placed': 8 } }).options.partitions).toEqual({ 'orders.placed': 8 });
    for (const bad of [0, 1025, 1.5, '8']) {
      expect(() => new RedisStreamsClient({ partitions: { 'orders.placed': bad as number } })).toThrow(
        'Invalid nestream option "partitions.orders.placed": must be an integer from 1 to 1024',
      );
    }
  });
});
