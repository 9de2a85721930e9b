import { StreamsAdmin, StreamsAdminError } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';

const fx = useRedis();
const admins: StreamsAdmin[] = [];
const admin = (options: ConstructorParameters<typeof StreamsAdmin>[0] = {}) => {
  const a = new StreamsAdmin({ connection: fx.redis.url, ...options });
  admins.push(a);
  return a;
};

beforeEach(() => fx.redis.client().flushall());
afterEach(() => Promise.all(admins.splice(0).map(a => a.close())));

describe('StreamsAdmin.status()', () => {
  it('shows a dead-letter stream in its source stream row, and one whose source is gone on its own', async () => {
    const redis = fx.redis.client();
    for (const key of ['a', 'a:dlq', 'a:dlq:dlq', 'gone:dlq']) await redis.xadd(key, '*', 'data', '1');
    const { streams } = await admin().status();
    expect(streams.map(s => [s.name, s.deadLetter?.key ?? null])).toEqual([
      ['a', 'a:dlq'],
      ['a:dlq:dlq', null], // the dead letters of a dead-letter stream (a redrive target gone wrong): listed
      ['gone:dlq', null],
    ]);
  });

  it('follows a custom deadLetter.key and the key prefix', async () => {
    const redis = fx.redis.client();
    for (const key of ['app:orders', 'app:dead.orders', 'other']) await redis.xadd(key, '*', 'data', '1');
    const status = await admin({ keyPrefix: 'app:', deadLetter: { key: s => s.replace('app:', 'app:dead.') } }).status();
    expect(status.streams.map(s => [s.name, s.key, s.deadLetter?.key])).toEqual([['orders', 'app:orders', 'app:dead.orders']]);
  });

  it('rejects what is not a stream with a typed error', async () => {
    await fx.redis.client().set('flag', '1');
    await expect(admin().status(['flag'])).rejects.toMatchObject({ name: 'StreamsAdminError', code: 'not-a-stream' });
    await expect(admin().status(['nothing'])).rejects.toBeInstanceOf(StreamsAdminError);
    await expect(admin().deadLetters.get('flag', '1-0')).rejects.toMatchObject({ code: 'not-a-stream' });
  });

  it('rejects connect() with the reason, not "Connection is closed"', async () => {
    const a = admin({ connection: 'redis://127.0.0.1:1', redisOptions: { retryStrategy: () => null, maxRetriesPerRequest: 0 } });
    await expect(a.connect()).rejects.toThrow('connect ECONNREFUSED 127.0.0.1:1');
  });
});
