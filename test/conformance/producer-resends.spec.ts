import { RedisStreamsClient, RedisUnavailableError } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { startProxy, type FreezableProxy } from '../harness/freezable-proxy.js';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Item 5 of issue 19: with ioredis's autoResendUnfulfilledCommands on, the XADDs a lost connection left
// unanswered were sent again on the reconnect: Redis had run them already, so each was written twice, and the
// caller heard only of the second (10,000 emits resolved, 15,000 entries).

let redis: TestRedis;
let proxy: FreezableProxy;
const clients: RedisStreamsClient[] = [];
beforeAll(async () => {
  redis = await startRedis();
  proxy = await startProxy(redis.port);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.close()));
});
afterAll(async () => {
  await proxy?.close();
  await redis?.stop();
});

type Outcome = { ok: true; ms: number } | { ok: false; error: Error; ms: number };

function settle(write: Promise<unknown>): Promise<Outcome> {
  const started = Date.now();
  return write.then(
    () => ({ ok: true, ms: Date.now() - started }),
    (error: Error) => ({ ok: false, error, ms: Date.now() - started }),
  );
}

/** The `n` of every entry of the stream, in stream order. */
async function numbersIn(stream: string): Promise<number[]> {
  const entries = (await redis.client().xrange(stream, '-', '+')) as Array<[string, string[]]>;
  return entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('data') + 1]) as { n: number }).n);
}

describe('a producer whose replies are lost before its connection comes back', () => {
  it.each([
    ['emit()', (c: RedisStreamsClient, stream: string, n: number) => lastValueFrom(c.emit(stream, { n }))],
    ['emitMany()', (c: RedisStreamsClient, stream: string, n: number) => c.emitMany(stream, [{ n }])],
  ])('%s never adds an entry twice: a write whose reply was lost rejects with "may or may not have been added"', async (_, write) => {
    // A write timeout far off: what settles the unanswered writes must be the lost connection, not a timer.
    const writeTimeoutMs = 20_000;
    const client = new RedisStreamsClient({ connection: proxy.url, writeTimeoutMs });
    clients.push(client);
    const stream = uniqueName('resend');
    const outcomes = new Map<number, Outcome>();
    let next = 0;
    const emit = async (count: number) => {
      const batch = Array.from({ length: count }, () => next++);
      const settled = await Promise.all(batch.map(n => settle(write(client, stream, n))));
      batch.forEach((n, i) => outcomes.set(n, settled[i]));
    };

    await emit(100);
    // Commands reach Redis, which runs them; its replies never come back.
    proxy.loseReplies('nestream:producer');
    const lost = emit(1000);
    await waitFor(async () => (await redis.client().xlen(stream)) === 1100, 'the 1,000 unanswered XADDs to have run in Redis');
    proxy.cut('nestream:producer');
    await lost;
    // Written after the reconnect: an XADD sent again on it would have landed before these.
    await emit(100);

    const numbers = await numbersIn(stream);
    const resolved = [...outcomes.values()].filter(o => o.ok).length;
    const rejected = [...outcomes.values()].filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    // Every write settled, none twice in Redis, never more entries than writes.
    expect(outcomes.size).toBe(1200);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.length).toBeLessThanOrEqual(1200);
    // What resolved is there; what is there beyond that was reported as "may or may not".
    expect(numbers.length).toBeGreaterThanOrEqual(resolved);
    expect(numbers.length - resolved).toBeLessThanOrEqual(rejected.length);
    for (const { error } of rejected) {
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(error.message).toContain('may or may not have been added');
    }
    // The 1,000 unanswered ones were told at the close, not after writeTimeoutMs.
    expect(rejected.length).toBe(1000);
    expect(Math.max(...rejected.map(o => o.ms))).toBeLessThan(writeTimeoutMs / 2);
    // The ones before and after the cut went through.
    expect([...outcomes].filter(([n, o]) => (n < 100 || n >= 1100) && !o.ok)).toEqual([]);
  });
});
