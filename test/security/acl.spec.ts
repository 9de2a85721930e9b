import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  RedisStreamRecordBuilder,
  checkConsumerPermissions,
  checkProducerPermissions,
  PermissionError,
  RedisStreamsServer,
  type RedisStreamsServerOptions,
} from '@nestream/transport';
import type { Redis } from 'ioredis';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import {
  aclText,
  CONNECTION_COMMANDS,
  consumerRules,
  eachWithoutOne,
  partitionConsumerRules,
  producerRules,
  requesterRules,
  setUser,
} from './acl-rules.js';

/**
 * The README's least-privilege ACL users, created on a redis-server of our own: the transport works under
 * each, and under a user lacking any one command of its rules, listen() (consumer) or the first use
 * (producer, request-reply client) fails with a PermissionError naming that command and the key.
 */
const fx = useRedis();
const PASSWORD = 'acl-test-password';
const REPLIES = 'nestream:replies:';
let admin: Redis;

beforeAll(() => {
  admin = fx.redis.client();
});

const as = (user: string) => ({ host: '127.0.0.1', port: fx.redis.port, username: user, password: PASSWORD });

/** Glob (`*` only) to a RegExp matching a whole key. */
const globToRegExp = (glob: string) => new RegExp(`^${glob.split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** Connections still open for a user (CLIENT LIST), to see that nothing keeps running after a failed start. */
async function connectionsOf(user: string): Promise<number> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter(line => line.includes(` user=${user} `)).length;
}

/** A Nest microservice whose listen() is expected to fail; returns the error, the app closed. */
async function failingListen(controllers: unknown[], options: RedisStreamsServerOptions): Promise<Error> {
  @Module({ controllers: controllers as never[] })
  class FailingModule {}
  const app: INestMicroservice = await NestFactory.createMicroservice(FailingModule, { strategy: new RedisStreamsServer(options), logger: false });
  const error = await app.listen().then(
    () => new Error('listen() resolved'),
    (err: Error) => err,
  );
  await app.close();
  return error;
}

function expectPermissionError(error: unknown, command: string, keyPattern: string): void {
  const permission = error instanceof PermissionError ? error : (error as Error).cause;
  expect(permission).toBeInstanceOf(PermissionError);
  const { missing } = permission as PermissionError;
  const match = missing.find(m => m.command === command && (keyPattern === '' ? m.key === '' : globToRegExp(keyPattern).test(m.key)));
  expect({ message: (error as Error).message, missing, match: match !== undefined }).toMatchObject({ match: true });
  expect((error as Error).message).toContain(match!.key ? `${command} on "${match!.key}"` : command);
}

describe('least-privilege ACL users', () => {
  it('are what the security guide lists', () => {
    const readme = readFileSync(new URL('../../docs/guide/security.md', import.meta.url), 'utf8');
    const listed = [
      ...consumerRules('orders.*', { replyPrefix: REPLIES, consumerCleanup: true }),
      ...partitionConsumerRules('orders.*', { ordered: true, group: 'shipping' }),
      ...requesterRules('orders.*'),
      ...producerRules('orders.*', { emitMany: true, durability: true }),
    ];
    for (const text of [CONNECTION_COMMANDS.join(' '), ...listed.map(aclText)]) expect(readme).toContain(text);
  });

  it("are accepted by Redis as the security guide writes them (ACL SETUSER lines)", async () => {
    const readme = readFileSync(new URL('../../docs/guide/security.md', import.meta.url), 'utf8');
    const lines = readme.split('\n').filter(line => line.startsWith('ACL SETUSER '));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      const [, , name, ...rules] = line.split(' ');
      await expect(admin.call('ACL', 'SETUSER', `readme-${name}`, ...rules)).resolves.toBe('OK');
    }
  });

  it('are checked without side effects: streams, groups, consumers, pending entries and the script cache stay as they were', async () => {
    const base = uniqueName('acl');
    const stream = `${base}.s`;
    await admin.xadd(stream, '*', 'data', '1');
    await admin.xadd(stream, '*', 'data', '2');
    await admin.xgroup('CREATE', stream, 'g', '0');
    await admin.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', stream, '>');
    const snapshot = async () => ({
      stream: await admin.call('XINFO', 'STREAM', stream, 'FULL'),
      keys: (await admin.keys('*')).sort(),
      scripts: /number_of_cached_scripts:(\d+)/.exec((await admin.info('memory')) as string)?.[1],
    });
    // A failed attempt recorded: the probes neither change it nor give it a TTL.
    await admin.hset(`${stream}:failures`, '1-0:g', '2');
    const before = await snapshot();
    await checkConsumerPermissions(admin, {
      streams: [stream, `${base}.absent`], group: 'g', consumer: 'c1', deadLetterKeys: [`${stream}:dlq`, `${base}.absent:dlq`],
      failureKeys: [`${stream}:failures`, `${base}.absent:failures`], replyPrefix: REPLIES, consumerCleanup: true, startsAtEnd: true,
    });
    await checkProducerPermissions(admin, {
      streams: [stream, `${base}.other`], partitionCountKeys: [`nestream:partitions:${stream}`], emitMany: true, replyStream: `${REPLIES}${base}`,
    });
    expect(await snapshot()).toEqual(before);
    expect(await admin.hgetall(`${stream}:failures`)).toEqual({ '1-0:g': '2' });
    expect(await admin.pttl(`${stream}:failures`)).toBe(-1);
    // Partitioned patterns: another consumer's lease, a membership set and a recorded count stay as they were.
    await admin.set(`${stream}:{0}:owner:g`, 'someone', 'PX', 60_000);
    await admin.set(`${stream}:{0}:owner-generation:g`, '7');
    await admin.zadd(`nestream:partition-consumers:1:g:${stream}`, 1, 'someone');
    await admin.set(`nestream:partitions:${stream}`, '1');
    const withPartitions = await snapshot();
    const ttl = await admin.pttl(`${stream}:{0}:owner:g`);
    await checkConsumerPermissions(admin, {
      streams: [`${stream}:{0}`], group: 'g', consumer: 'c1', deadLetterKeys: [`${stream}:{0}:dlq`], failureKeys: [`${stream}:{0}:failures`],
      partitions: {
        counted: [{ countKey: `nestream:partitions:${stream}`, stream }],
        leaseKeys: [`${stream}:{0}:owner:g`],
        generationKeys: [`${stream}:{0}:owner-generation:g`],
        memberKeys: [`nestream:partition-consumers:1:g:${stream}`],
      },
    });
    expect(await snapshot()).toEqual(withPartitions);
    expect(await admin.get(`${stream}:{0}:owner:g`)).toBe('someone');
    expect(await admin.get(`${stream}:{0}:owner-generation:g`)).toBe('7');
    const left = await admin.pttl(`${stream}:{0}:owner:g`);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(ttl);
    expect(await admin.zrange(`nestream:partition-consumers:1:g:${stream}`, 0, -1, 'WITHSCORES')).toEqual(['someone', '1']);
    expect(await admin.get(`nestream:partitions:${stream}`)).toBe('1');
    expect(before.scripts).toMatch(/^\d+$/);
  });

  describe('consumer', () => {
    it('handles, retries, dead-letters and answers requests under exactly its rules', async () => {
      const base = uniqueName('acl');
      await setUser(admin, `${base}-consumer`, PASSWORD, consumerRules(`${base}.*`, { replyPrefix: REPLIES }));
      await setUser(admin, `${base}-client`, PASSWORD, [...requesterRules(`${base}.*`), ...producerRules(`${base}.*`, { emitMany: true })]);
      const handled: string[] = [];
      let flakyCalls = 0;
      @Controller()
      class Handlers {
        @EventPattern(`${base}.ok`)
        ok(@Payload() data: { id: string }) {
          handled.push(data.id);
        }

        @EventPattern(`${base}.flaky`, { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 100, jitter: 0 } } })
        flaky() {
          if (++flakyCalls === 1) throw new Error('first attempt fails');
        }

        @EventPattern(`${base}.poison`, { retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 100, jitter: 0 } } })
        poison() {
          throw new Error('always fails');
        }

        @MessagePattern(`${base}.sum`)
        sum(@Payload() numbers: number[]) {
          return numbers.reduce((a, b) => a + b, 0);
        }
      }
      fx.apps.push(await startApp([Handlers], { connection: as(`${base}-consumer`), group: 'g' }));
      const client = fx.client({ connection: as(`${base}-client`) });

      await lastValueFrom(client.emit(`${base}.ok`, { id: 'one' }));
      await client.emitMany(`${base}.ok`, [{ id: 'two' }, { id: 'three' }]);
      await lastValueFrom(client.emit(`${base}.flaky`, {}));
      await lastValueFrom(client.emit(`${base}.poison`, {}));
      await expect(firstValueFrom(client.send(`${base}.sum`, [1, 2, 3]))).resolves.toBe(6);

      await waitFor(() => handled.length === 3 && flakyCalls === 2, 'events handled and the flaky one retried');
      await waitFor(async () => (await fx.deadLetters(`${base}.poison`)).length === 1, 'the poison event dead-lettered');
      expect(handled.sort()).toEqual(['one', 'three', 'two']);
      expect((await fx.deadLetters(`${base}.poison`))[0]['dlq.reason']).toBe('max-attempts');
      for (const p of ['ok', 'flaky', 'poison', 'sum']) {
        await waitFor(async () => (await fx.pending(`${base}.${p}`)) === 0, `${p} acked`);
      }
    });

    const rules = consumerRules('<streams>', { replyPrefix: REPLIES });
    it.each(eachWithoutOne(rules).map(([command, key]) => [command, key || 'no key']))(
      'fails listen() without %s (%s), naming the command and the key, and runs nothing',
      async (command, label) => {
        const keyPattern = label === 'no key' ? '' : label;
        const base = uniqueName('acl');
        const user = `${base}-consumer`;
        const pattern = (k: string) => k.replace('<streams>', `${base}.*`);
        const [, , without] = eachWithoutOne(consumerRules(`${base}.*`, { replyPrefix: REPLIES })).find(([c, k]) => c === command && k === pattern(keyPattern))!;
        await setUser(admin, user, PASSWORD, without);
        let calls = 0;
        @Controller()
        class Handlers {
          @EventPattern(`${base}.event`)
          event() {
            calls++;
          }

          @MessagePattern(`${base}.request`)
          request() {
            calls++;
          }
        }
        await admin.xadd(`${base}.event`, '*', 'data', '1'); // something to run, were the consumer to start
        // startId '0' would run the entry above, were the consumer to start (XLEN is needed only with '$').
        const error = await failingListen([Handlers], { connection: as(user), group: 'g', startId: command === 'XLEN' ? '$' : '0' });
        expectPermissionError(error, command, pattern(keyPattern));
        expect(calls).toBe(0);
        await waitFor(async () => (await connectionsOf(user)) === 0, 'every connection of the failed start closed');
      },
    );

    it('removes idle consumers under the consumerCleanup rules, and fails listen() without any of them', async () => {
      const base = uniqueName('acl');
      const user = `${base}-consumer`;
      const stream = `${base}.event`;
      await setUser(admin, user, PASSWORD, consumerRules(`${base}.*`, { consumerCleanup: true }));
      await admin.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
      await admin.call('XGROUP', 'CREATECONSUMER', stream, 'g', 'gone-consumer');
      @Controller()
      class Handlers {
        @EventPattern(`${base}.event`)
        event() {}
      }
      const app = await startApp([Handlers], {
        connection: as(user), group: 'g', consumerCleanup: { idleMs: 1 }, claim: { intervalMs: 100 },
      });
      fx.apps.push(app);
      const consumers = async () => ((await admin.xinfo('CONSUMERS', stream, 'g')) as unknown[][]).map(row => row[1]);
      await waitFor(async () => !(await consumers()).includes('gone-consumer'), 'the idle consumer removed');
      await app.close();

      for (const [command, key, without] of eachWithoutOne(consumerRules(`${base}.*`, { consumerCleanup: true })).slice(-2)) {
        await setUser(admin, user, PASSWORD, without);
        const error = await failingListen([Handlers], { connection: as(user), group: 'g', consumerCleanup: { idleMs: 1 } });
        expectPermissionError(error, command, key);
      }
    });
  });

  describe('consumer of partitioned patterns', () => {
    const partitionedRules = (base: string) => [...consumerRules(`${base}.*`), ...partitionConsumerRules(`${base}.*`, { ordered: true })];

    it('handles ordered and unordered partitioned events under exactly its rules, and gives its partitions up on close()', async () => {
      const base = uniqueName('acl');
      await setUser(admin, `${base}-consumer`, PASSWORD, partitionedRules(base));
      await setUser(admin, `${base}-producer`, PASSWORD, producerRules(`${base}.*`, { emitMany: true }));
      const handled: string[] = [];
      @Controller()
      class Handlers {
        @EventPattern(`${base}.ordered`, { partitions: 2, ordered: true })
        ordered(@Payload() data: { id: string }) {
          handled.push(data.id);
        }

        @EventPattern(`${base}.spread`, { partitions: 2 })
        spread(@Payload() data: { id: string }) {
          handled.push(data.id);
        }
      }
      const app = await startApp([Handlers], { connection: as(`${base}-consumer`), group: 'g', blockMs: 200, claim: { minIdleMs: 2000, intervalMs: 100 } });
      fx.apps.push(app);
      const client = fx.client({ connection: as(`${base}-producer`) });
      await client.checkPermissions([`${base}.ordered`, `${base}.spread`], { emitMany: true });
      await lastValueFrom(client.emit(`${base}.ordered`, new RedisStreamRecordBuilder({ id: 'o1' }).setPartitionKey('a').build()));
      await client.emitMany(`${base}.spread`, [{ id: 's1' }, { id: 's2' }]);
      await waitFor(() => handled.length === 3, 'the three events handled');
      await waitFor(async () => (await admin.exists(`${base}.ordered:{0}:owner:g`, `${base}.ordered:{1}:owner:g`)) === 2, 'both partitions owned');
      await app.close();
      // Leases given up and the membership set left (an empty set is no key).
      expect(await admin.exists(`${base}.ordered:{0}:owner:g`, `${base}.ordered:{1}:owner:g`, `nestream:partition-consumers:1:g:${base}.ordered`)).toBe(0);
    });

    // Each rule of partitionConsumerRules() (those of consumerRules() are taken out one by one above).
    const consumerCommands = consumerRules('<streams>').length;
    it.each(eachWithoutOne(partitionedRules('<base>'), consumerCommands).map(([command, key]) => [command, key || 'no key']))(
      'fails listen() without %s (%s), naming the command and the key',
      async (command, label) => {
        const base = uniqueName('acl');
        const user = `${base}-consumer`;
        const keyPattern = label === 'no key' ? '' : label.replace('<base>', base);
        const [, , without] = eachWithoutOne(partitionedRules(base), consumerCommands).find(([c, k]) => c === command && k === keyPattern)!;
        await setUser(admin, user, PASSWORD, without);
        @Controller()
        class Handlers {
          @EventPattern(`${base}.event`, { partitions: 2, ordered: true })
          event() {}
        }
        const error = await failingListen([Handlers], { connection: as(user), group: 'g' });
        expectPermissionError(error, command, keyPattern);
        await waitFor(async () => (await connectionsOf(user)) === 0, 'every connection of the failed start closed');
      },
    );
  });

  describe('producer', () => {
    it('emits and emits many under exactly its rules', async () => {
      const base = uniqueName('acl');
      await setUser(admin, `${base}-producer`, PASSWORD, producerRules(`${base}.*`, { emitMany: true }));
      const client = fx.client({ connection: as(`${base}-producer`) });
      await client.checkPermissions([`${base}.x`], { emitMany: true });
      const id = await lastValueFrom(client.emit(`${base}.x`, { a: 1 }));
      const ids = await client.emitMany(`${base}.x`, [{ a: 2 }, { a: 3 }]);
      expect(await admin.xlen(`${base}.x`)).toBe(3);
      expect(ids).toHaveLength(2);
      expect(id).toMatch(/^\d+-\d+$/);
    });

    it('fails the first emit without GET on the pattern\'s partition count key, naming it, without writing', async () => {
      const base = uniqueName('acl');
      const user = `${base}-producer`;
      const [, , without] = eachWithoutOne(producerRules(`${base}.*`)).find(([c]) => c === 'GET')!;
      await setUser(admin, user, PASSWORD, without);
      const client = fx.client({ connection: as(user) });
      const error = await lastValueFrom(client.emit(`${base}.x`, { a: 1 })).then(
        () => new Error('resolved'),
        (err: Error) => err,
      );
      expectPermissionError(error, 'GET', `nestream:partitions:${base}.x`);
      await expect(client.emitMany(`${base}.x`, [{ a: 1 }])).rejects.toThrow(PermissionError);
      await expect(client.checkPermissions([`${base}.x`])).rejects.toThrow(`GET on "nestream:partitions:${base}.x"`);
      expect(await admin.exists(`${base}.x`)).toBe(0);
    });

    it.each([
      ['XADD', 'emit'],
      ['XADD', 'emitMany'],
      ['EVALSHA', 'emitMany'],
      ['EVAL', 'emitMany'],
    ])('fails the first use without %s (%s), naming the command and the key', async (command, use) => {
      const base = uniqueName('acl');
      const user = `${base}-producer`;
      const [, , without] = eachWithoutOne(producerRules(`${base}.*`, { emitMany: true })).find(([c]) => c === command)!;
      await setUser(admin, user, PASSWORD, without);
      const client = fx.client({ connection: as(user) });
      const stream = `${base}.x`;
      // ioredis sends a script with EVAL the first time on a connection and with EVALSHA after that: without
      // EVALSHA, the second emitMany() is the first to fail.
      const send = () => (use === 'emit' ? lastValueFrom(client.emit(stream, { a: 1 })) : client.emitMany(stream, [{ a: 1 }]));
      const error = await send()
        .then(send)
        .then(
          () => new Error('resolved'),
          (err: Error) => err,
        );
      // For XADD inside the emitMany script Redis names no command; the transport names the one the script runs.
      expectPermissionError(error, command, stream);
      await expect(client.checkPermissions([stream], { emitMany: true })).rejects.toThrow(PermissionError);
      if (command !== 'EVALSHA') expect(await admin.exists(stream)).toBe(0);
    });
  });

  describe('request-reply client', () => {
    it.each(['XREAD', 'XTRIM'])('fails send() without %s on its reply stream, naming it, without sending the request', async command => {
      const base = uniqueName('acl');
      const user = `${base}-client`;
      const [, , without] = eachWithoutOne(requesterRules(`${base}.*`)).find(([c]) => c === command)!;
      await setUser(admin, user, PASSWORD, without);
      const client = fx.client({ connection: as(user), requestTimeoutMs: 10_000 });
      const error = await firstValueFrom(client.send(`${base}.sum`, [1])).then(
        () => new Error('resolved'),
        (err: Error) => err,
      );
      expectPermissionError(error, command, `${REPLIES}*`);
      expect(await admin.exists(`${base}.sum`)).toBe(0);
    });

    it('fails send() without XADD on the request stream, naming it', async () => {
      const base = uniqueName('acl');
      const user = `${base}-client`;
      await setUser(admin, user, PASSWORD, requesterRules(`${base}.*`).slice(1));
      const client = fx.client({ connection: as(user), requestTimeoutMs: 10_000 });
      const error = await firstValueFrom(client.send(`${base}.sum`, [1])).then(
        () => new Error('resolved'),
        (err: Error) => err,
      );
      expectPermissionError(error, 'XADD', `${base}.sum`);
    });
  });
});

