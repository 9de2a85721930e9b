import { RedisStreamRecordBuilder, RedisUnavailableError, type RedisStreamsClient } from '@nestream/transport';
import { freePort } from '../harness/redis-server.js';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startProxy } from '../harness/freezable-proxy.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();

const keyed = (data: unknown, key: string) => new RedisStreamRecordBuilder(data).setIdempotencyKey(key).build();
const emit = (client: RedisStreamsClient, pattern: string, record: unknown) => lastValueFrom(client.emit<string>(pattern, record));

describe('idempotency keys', () => {
  it('a second emit with the key adds nothing and resolves with the first entry id; another key adds', async () => {
    const pattern = uniqueName('payments');
    const client = fx.client();
    const first = await emit(client, pattern, keyed({ n: 1 }, 'order-1:charged'));
    const again = await emit(client, pattern, keyed({ n: 2 }, 'order-1:charged'));
    const other = await emit(client, pattern, keyed({ n: 3 }, 'order-2:charged'));
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    const entries = (await fx.redis.client().xrange(pattern, '-', '+')) as Array<[string, string[]]>;
    expect(entries.map(([id, fields]) => [id, JSON.parse(fields[1]).n])).toEqual([[first, 1], [other, 3]]);
    // The record of the key lives next to the stream, in its slot, for the window.
    const redis = fx.redis.client();
    expect(await redis.get(`{${pattern}}:idem:order-1:charged`)).toBe(first);
    expect(await redis.pttl(`{${pattern}}:idem:order-1:charged`)).toBeGreaterThan(590_000);
  });

  it('remembers a key for idempotencyWindowMs only', async () => {
    const pattern = uniqueName('payments');
    const client = fx.client({ idempotencyWindowMs: 100 });
    const first = await emit(client, pattern, keyed({ n: 1 }, 'k'));
    const redis = fx.redis.client();
    await waitFor(async () => (await redis.exists(`{${pattern}}:idem:k`)) === 0, 'the key to expire after its window');
    const later = await emit(client, pattern, keyed({ n: 2 }, 'k'));
    expect(later).not.toBe(first);
    expect(await redis.xlen(pattern)).toBe(2);
  });

  it('producers racing with one key add one entry, and all of them get its id', async () => {
    const pattern = uniqueName('payments');
    const clients = Array.from({ length: 4 }, () => fx.client());
    const ids = await Promise.all(clients.flatMap(c => Array.from({ length: 25 }, (_, i) => emit(c, pattern, keyed({ i }, 'the-one')))));
    expect(new Set(ids).size).toBe(1);
    expect(await fx.redis.client().xlen(pattern)).toBe(1);
  });

  it('emitMany: keyed entries added once, repeats resolve with the first id, unkeyed ones always added, in order', async () => {
    const pattern = uniqueName('payments');
    const client = fx.client();
    const ids = await client.emitMany(pattern, [keyed({ n: 1 }, 'a'), { n: 2 }, keyed({ n: 3 }, 'a'), keyed({ n: 4 }, 'b'), { n: 5 }]);
    expect(ids[2]).toBe(ids[0]);
    const entries = (await fx.redis.client().xrange(pattern, '-', '+')) as Array<[string, string[]]>;
    expect(entries.map(([, fields]) => JSON.parse(fields[1]).n)).toEqual([1, 2, 4, 5]);
    expect(entries.map(([id]) => id)).toEqual([ids[0], ids[1], ids[3], ids[4]]);
  });

  it('is refused on send(), and a key that is not a short string is refused by the builder', async () => {
    const client = fx.client();
    await expect(lastValueFrom(client.send(uniqueName('rpc'), keyed({}, 'k')))).rejects.toThrow('requests take no idempotency key');
    expect(() => new RedisStreamRecordBuilder({}).setIdempotencyKey('')).toThrow('idempotency key must be a string of 1 to 512 characters');
    expect(() => new RedisStreamRecordBuilder({}).setIdempotencyKey('x'.repeat(513))).toThrow('got 513 characters');
  });

  it('a keyed emit whose reply was lost is sent again by the client, and still adds one entry', async () => {
    const proxy = await startProxy(fx.redis.port);
    try {
      const pattern = uniqueName('payments');
      const client = fx.client({ connection: proxy.url, writeTimeoutMs: 500 });
      // The first emit of a pattern reads its partition count (a GET, not retried): done before replies are lost.
      const warm = await emit(client, pattern, keyed({ i: -1 }, 'warm-up'));
      // Redis runs the next writes, but their replies never come back on this connection.
      proxy.loseReplies();
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => emit(client, pattern, keyed({ i }, `key-${i}`))));
      const entries = (await fx.redis.client().xrange(pattern, '-', '+')) as Array<[string, string[]]>;
      expect(entries).toHaveLength(21);
      expect(new Set([warm, ...ids])).toEqual(new Set(entries.map(([id]) => id)));
    } finally {
      await proxy.close();
    }
  });
});

describe('what a failed write tells its caller', () => {
  it('sent: true when the write went out and its answer was lost (may or may not be added), false when it never went out', async () => {
    const proxy = await startProxy(fx.redis.port);
    try {
      const pattern = uniqueName('payments');
      const client = fx.client({ connection: proxy.url, writeTimeoutMs: 300 });
      await emit(client, pattern, { n: 0 }); // reads the partition count while replies still come back
      proxy.loseReplies();
      const lost = await emit(client, pattern, { n: 1 }).catch(err => err);
      expect(lost).toBeInstanceOf(RedisUnavailableError);
      expect([lost.sent, lost.message]).toEqual([true, expect.stringContaining('may or may not have been added')]);
    } finally {
      await proxy.close();
    }
    const unreachable = fx.client({ connection: `redis://127.0.0.1:${await freePort()}`, writeTimeoutMs: 300, connectTimeoutMs: 300 });
    const never = await emit(unreachable, uniqueName('payments'), { n: 1 }).catch(err => err);
    expect(never).toBeInstanceOf(RedisUnavailableError);
    expect([never.sent, never.message]).toEqual([false, expect.stringContaining('nothing was written')]);
  });
});

describe('idempotency key permissions', () => {
  it('checkPermissions(..., { idempotencyKeys: true }) names what a user without SET on the key records lacks', async () => {
    const admin = fx.redis.client();
    const pattern = uniqueName('payments');
    await admin.call('ACL', 'SETUSER', 'no-records', 'on', '>pw', `~${pattern}`, '~nestream:partitions:*', '+@all');
    const [host, port] = fx.redis.url.replace('redis://', '').split(':');
    const client = fx.client({ connection: `redis://no-records:pw@${host}:${port}` });
    await expect(client.checkPermissions([pattern])).resolves.toBeUndefined();
    await expect(client.checkPermissions([pattern], { idempotencyKeys: true })).rejects.toThrow(`{${pattern}}:idem:nestream-permission-probe`);
    // And the emit itself fails with the same kind of error, never a silent duplicate.
    await expect(emit(client, pattern, keyed({}, 'k'))).rejects.toThrow('NOPERM');
  });
});
