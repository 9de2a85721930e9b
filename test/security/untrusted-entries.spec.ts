import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { RedisCommandError, type DeadLetteredEvent } from '@nestream/transport';
import { firstValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

/**
 * Whoever can XADD to a stream a server reads (another service, a compromised one, a tenant) writes entries
 * as an attacker would: each test crafts them with a plain XADD and checks that nothing outside the stream
 * is touched, the handler never sees them, and each ends in the dead-letter stream with reason `decode`.
 */
const fx = useRedis();

const later = () => String(Date.now() + 60_000);

/** A request handler that records what it ran, on its own stream, with a server that reports dead letters. */
async function startEcho(options: { keyPrefix?: string } = {}) {
  const pattern = uniqueName('echo');
  const calls: unknown[] = [];
  const dead: DeadLetteredEvent[] = [];
  const errors: unknown[] = [];
  @Controller()
  class Echo {
    @MessagePattern(pattern, { retry: { maxAttempts: 1 } })
    echo(@Payload() data: unknown) {
      calls.push(data);
      return data;
    }
  }
  const app = await startApp([Echo], { connection: fx.redis.url, group: 'g', ...options });
  app.server.on('deadLettered', e => dead.push(e));
  app.server.on('error', e => errors.push(e));
  fx.apps.push(app);
  return { pattern, stream: (options.keyPrefix ?? '') + pattern, calls, dead, errors };
}

async function deadLetterOf(stream: string): Promise<Record<string, string>> {
  await waitFor(async () => (await fx.deadLetters(stream)).length === 1, `a dead letter in ${stream}:dlq`);
  return (await fx.deadLetters(stream))[0];
}

describe('request fields (rt, cid, dl)', () => {
  it('leaves a stream, a list, a hash and a string that rt points at untouched, and dead-letters each request', async () => {
    const redis = fx.redis.client();
    const { stream, calls } = await startEcho();
    const other = uniqueName('payments.completed');
    const pipeline = redis.pipeline();
    for (let i = 0; i < 20_000; i++) pipeline.xadd(other, '*', 'data', String(i));
    await pipeline.exec();
    const list = uniqueName('jobs');
    const hash = uniqueName('session');
    const string = uniqueName('config');
    await redis.rpush(list, 'a', 'b');
    await redis.hset(hash, 'user', 'ada');
    await redis.set(string, 'v');

    for (const target of [other, list, hash, string]) {
      await redis.xadd(stream, '*', 'data', '{"x":1}', 'cid', 'c1', 'rt', target, 'dl', later());
    }
    await waitFor(async () => (await fx.deadLetters(stream)).length === 4, 'four dead letters');

    expect(calls).toEqual([]);
    expect(await redis.xlen(other)).toBe(20_000);
    expect(await redis.lrange(list, 0, -1)).toEqual(['a', 'b']);
    expect(await redis.hgetall(hash)).toEqual({ user: 'ada' });
    expect(await redis.get(string)).toBe('v');
    for (const key of [other, list, hash, string]) expect(await redis.ttl(key)).toBe(-1);
    for (const letter of await fx.deadLetters(stream)) {
      expect(letter['dlq.reason']).toBe('decode');
      expect(letter['dlq.error.message']).toMatch(/"rt" is not a reply stream \(must start with "nestream:replies:"\)/);
    }
    expect(await fx.pending(stream)).toBe(0);
  });

  it("leaves another tenant's reply streams alone: rt must be under this server's keyPrefix", async () => {
    const redis = fx.redis.client();
    const { stream } = await startEcho({ keyPrefix: 'tenant-a:' });
    const victim = 'tenant-b:nestream:replies:0b5c1f9e-2a1d-4c3b-9e8f-7a6b5c4d3e2f';
    await redis.xadd(victim, '*', 'cid', 'x', 'p', '{}');
    await redis.xadd(stream, '*', 'data', '1', 'cid', 'c1', 'rt', victim, 'dl', later());
    const letter = await deadLetterOf(stream);
    expect(letter['dlq.reason']).toBe('decode');
    expect(await redis.xlen(victim)).toBe(1);
    expect(await redis.ttl(victim)).toBe(-1);
  });

  it('dead-letters a request with an empty or malformed dl instead of skipping it', async () => {
    const redis = fx.redis.client();
    const { stream, calls } = await startEcho();
    const replyTo = 'nestream:replies:attacker';
    await redis.xadd(stream, '*', 'data', '1', 'cid', 'c1', 'rt', replyTo, 'dl', '');
    const letter = await deadLetterOf(stream);
    expect(letter['dlq.reason']).toBe('decode');
    expect(letter['dlq.error.message']).toMatch(/"dl" must be a positive integer/);
    expect(calls).toEqual([]);
    expect(await redis.exists(replyTo)).toBe(0);
  });

  it('never echoes a 1 MB cid: the request is dead-lettered with a short error and no reply is written', async () => {
    const redis = fx.redis.client();
    const { stream, calls } = await startEcho();
    const replyTo = 'nestream:replies:attacker';
    await redis.xadd(stream, '*', 'data', '1', 'cid', 'c'.repeat(1_000_000), 'rt', replyTo, 'dl', later());
    const letter = await deadLetterOf(stream);
    expect(letter['dlq.reason']).toBe('decode');
    expect(letter['dlq.error.message']).toMatch(/"cid" is longer than 128 characters/);
    expect(letter['dlq.error.message'].length).toBeLessThan(200);
    expect(calls).toEqual([]);
    expect(await redis.exists(replyTo)).toBe(0);
  });

  it('still answers a well-formed request from a client', async () => {
    const { pattern } = await startEcho();
    await expect(firstValueFrom(fx.client().send(pattern, { ok: 1 }))).resolves.toEqual({ ok: 1 });
  });

  it('surfaces a reply write Redis refused (a non-stream key in the reply namespace), naming XADD and the key', async () => {
    const redis = fx.redis.client();
    const { stream, calls, errors } = await startEcho();
    const replyTo = `nestream:replies:${uniqueName('squatted')}`;
    await redis.hset(replyTo, 'not', 'a stream');
    await redis.xadd(stream, '*', 'data', '1', 'cid', 'c1', 'rt', replyTo, 'dl', later());
    await waitFor(() => errors.length > 0, 'the failed reply write reported');
    const cause = (errors[0] as Error).cause as RedisCommandError;
    expect(cause).toBeInstanceOf(RedisCommandError);
    expect(cause).toMatchObject({ command: 'XADD', key: replyTo });
    expect((errors[0] as Error).message).toMatch(new RegExp(`XADD on "${replyTo}" failed: WRONGTYPE`));
    expect(calls).toHaveLength(1);
    expect(await redis.type(replyTo)).toBe('hash');
  });
});

describe('payloads', () => {
  /** An event handler that records what it got; entries that reach it are counted. */
  async function startSink() {
    const pattern = uniqueName('sink');
    const seen: unknown[] = [];
    @Controller()
    class Sink {
      @EventPattern(pattern)
      handle(@Payload() data: unknown) {
        // What a careless handler does with what it receives: merge it into a fresh object.
        seen.push(Object.assign({}, data));
      }
    }
    fx.apps.push(await startApp([Sink], { connection: fx.redis.url, group: 'g' }));
    return { pattern, seen };
  }

  it('dead-letters 100 "\\u005f_proto__" payloads: none reaches the handler with an attacker-chosen prototype', async () => {
    const redis = fx.redis.client();
    const { pattern, seen } = await startSink();
    for (let i = 0; i < 100; i++) {
      await redis.xadd(pattern, '*', 'data', `{"id":${i},"\\u005f_proto__":{"isAdmin":true}}`);
    }
    await redis.xadd(pattern, '*', 'data', '{"id":"last"}');
    await waitFor(() => seen.length === 1, 'the plain entry handled');
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 100, '100 dead letters');
    expect(seen).toEqual([{ id: 'last' }]);
    expect((seen[0] as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(({} as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    for (const letter of await fx.deadLetters(pattern)) {
      expect(letter).toMatchObject({ 'dlq.reason': 'decode', 'dlq.error.message': '"data" has a "__proto__" key' });
    }
  });

  it('dead-letters a constructor.prototype payload', async () => {
    const redis = fx.redis.client();
    const { pattern, seen } = await startSink();
    await redis.xadd(pattern, '*', 'data', '{"constructor":{"prototype":{"isAdmin":true}}}');
    const letter = await deadLetterOf(pattern);
    expect(letter['dlq.error.message']).toBe('"data" has a "constructor.prototype" key');
    expect(seen).toEqual([]);
  });

  it('dead-letters 100,000-deep JSON and keeps handling what comes next', async () => {
    const redis = fx.redis.client();
    const { pattern, seen } = await startSink();
    await redis.xadd(pattern, '*', 'data', '['.repeat(100_000) + ']'.repeat(100_000));
    await redis.xadd(pattern, '*', 'data', '{"id":"next"}');
    const letter = await deadLetterOf(pattern);
    expect(letter['dlq.error.message']).toMatch(/nested deeper than 64 levels \(maxPayloadDepth\)/);
    await waitFor(() => seen.length === 1, 'the next entry handled');
    expect(seen).toEqual([{ id: 'next' }]);
  });

  it('dead-letters headers whose values are not strings', async () => {
    const redis = fx.redis.client();
    const { pattern, seen } = await startSink();
    await redis.xadd(pattern, '*', 'data', '1', 'h', '{"tenant":{"$ne":null}}');
    const letter = await deadLetterOf(pattern);
    expect(letter['dlq.error.message']).toBe('"h" value of "tenant" must be a string');
    expect(seen).toEqual([]);
  });
});
