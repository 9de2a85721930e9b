import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  DurabilityError, InvalidOptionsError, PermissionError, RedisStreamsClient, RedisUnavailableError, type RedisStreamsClientOptions,
} from '@nestream/transport';
import type { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { startApp, type TestApp } from '../harness/nest-app.js';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Issue 11, item 2: durable emits. A master and one replica (redis-server --replicaof), both started here.

let master: TestRedis;
let replica: TestRedis;
let onMaster: Redis;
let onReplica: Redis;
const clients: RedisStreamsClient[] = [];
const apps: TestApp[] = [];

beforeAll(async () => {
  master = await startRedis();
  replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  onMaster = master.client();
  onReplica = replica.client();
  await replicaInSync();
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map(a => a.close()));
  await Promise.all(clients.splice(0).map(c => c.close()));
  // A test may leave the replica stopped (SIGSTOP) or killed: every test starts with it replicating.
  await resumeReplica();
});

afterAll(async () => {
  await replica?.stop();
  await master?.stop();
});

/** The replica is connected and has everything the master has. */
async function replicaInSync(): Promise<void> {
  await waitFor(async () => {
    const info = (await onMaster.info('replication')) as string;
    return /slave0:.*state=online/.test(info) && (await onMaster.wait(1, 100)) === 1;
  }, 'the replica to be online and in sync');
}

let replicaPid: number | undefined;
let replicaKilled = false;

async function pauseReplica(): Promise<void> {
  replicaPid = Number(/process_id:(\d+)/.exec((await onReplica.info('server')) as string)?.[1]);
  process.kill(replicaPid, 'SIGSTOP');
}

async function killReplica(): Promise<void> {
  await replica.kill();
  replicaKilled = true;
}

function continueReplica(): void {
  if (replicaPid !== undefined) process.kill(replicaPid, 'SIGCONT');
  replicaPid = undefined;
}

async function resumeReplica(): Promise<void> {
  continueReplica();
  if (replicaKilled) await replica.start();
  replicaKilled = false;
  await replicaInSync();
}

function client(options: RedisStreamsClientOptions = {}): RedisStreamsClient {
  const c = new RedisStreamsClient({ connection: master.url, ...options } as RedisStreamsClientOptions);
  clients.push(c);
  return c;
}

/** The entry's fields on one server, or undefined if it does not have it. */
async function entryOn(redis: Redis, stream: string, id: string): Promise<string[] | undefined> {
  const found = (await redis.xrange(stream, id, id)) as Array<[string, string[]]>;
  return found[0]?.[1];
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, got a value');
    },
    (err: Error) => err,
  );
}

async function waitCalls(): Promise<number> {
  const stats = (await onMaster.info('commandstats')) as string;
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

const DURABLE = { durability: { replicas: 1, timeoutMs: 20_000 } };

describe('durable emits (option durability)', () => {
  it('emit() resolves only once the replica has the entry', async () => {
    const stream = uniqueName('durable.emit');
    const c = client(DURABLE);
    await c.connect();
    await pauseReplica();
    let settled = false;
    const emitted = lastValueFrom(c.emit(stream, { n: 1 })).finally(() => (settled = true));
    // On the master already, but the replica, stopped, cannot confirm it: the emit waits.
    await waitFor(async () => (await onMaster.xlen(stream)) === 1, 'the entry on the master');
    expect(settled).toBe(false);
    await resumeReplica();
    const id = (await emitted) as string;
    expect(await entryOn(onReplica, stream, id)).toEqual(expect.arrayContaining(['data', '{"n":1}']));
  });

  it('emit(), emitMany() and send() resolve with the entries on the replica, right after', async () => {
    const stream = uniqueName('durable.all');
    const requests = uniqueName('durable.sum');
    @Controller()
    class Sum {
      @MessagePattern(requests)
      sum(@Payload() numbers: number[]) {
        return numbers.reduce((a, b) => a + b, 0);
      }
    }
    apps.push(await startApp([Sum], { connection: master.url, group: 'g' }));
    // No connect(): the first writes wait for the connection, the later ones find it ready.
    const c = client(DURABLE);
    const first = await Promise.all([1, 2, 3].map(n => lastValueFrom(c.emit(stream, { n })) as Promise<string>));
    for (const id of first) expect(await entryOn(onReplica, stream, id)).toBeDefined();
    const next = (await lastValueFrom(c.emit(stream, { n: 4 }))) as string;
    expect(await entryOn(onReplica, stream, next)).toBeDefined();
    const many = await c.emitMany(stream, Array.from({ length: 600 }, (_, n) => ({ n }))); // 3 script calls
    expect(many).toHaveLength(600);
    for (const id of [many[0], many[299], many[599]]) expect(await entryOn(onReplica, stream, id)).toBeDefined();
    expect(await onReplica.xlen(stream)).toBe(604);
    await expect(lastValueFrom(c.send(requests, [1, 2, 3]))).resolves.toBe(6);
    expect(await onReplica.xlen(requests)).toBe(1);
  });

  it('sends one WAIT for the concurrent writes of a turn, not one per write', async () => {
    const stream = uniqueName('durable.coalesced');
    const c = client(DURABLE);
    await c.connect();
    const before = await waitCalls();
    await Promise.all(Array.from({ length: 200 }, (_, n) => lastValueFrom(c.emit(stream, { n }))));
    expect(await waitCalls()).toBe(before + 1);
    expect(await onReplica.xlen(stream)).toBe(200);
  });

  it('never sends writes behind a WAIT that is still waiting: they go out together when it returns', async () => {
    const stream = uniqueName('durable.queued');
    const c = client({ durability: { replicas: 1, timeoutMs: 2000 } });
    await lastValueFrom(c.emit(stream, { warm: true })); // the pattern's first emit also looks up its partitions
    await pauseReplica();
    const before = await waitCalls();
    const turn = () => new Promise(resolve => setImmediate(resolve));
    const emits: Array<Promise<unknown>> = [];
    for (let t = 0; t < 3; t++) {
      // Three turns of writes: the first turn's WAIT blocks the connection; the next two wait for it here.
      emits.push(...[1, 2].map(n => lastValueFrom(c.emit(stream, { t, n })).catch((err: unknown) => err)));
      await turn();
    }
    await waitFor(async () => (await onMaster.xlen(stream)) === 3, "the first turn's entries on the master");
    continueReplica(); // not resumeReplica(): its own WAIT would count
    const outcomes = await Promise.all(emits);
    // The first turn may or may not have been confirmed (the replica came back during its WAIT); the rest was.
    for (const outcome of outcomes.slice(2)) expect(outcome).toEqual(expect.stringMatching(/^\d+-\d+$/));
    expect(await onMaster.xlen(stream)).toBe(7);
    expect(await waitCalls()).toBe(before + 2);
  });

  it('rejects a write still waiting for an earlier WAIT at writeTimeoutMs, without sending it', async () => {
    const stream = uniqueName('durable.unsent');
    const c = client({ writeTimeoutMs: 200, durability: { replicas: 1, timeoutMs: 1000 } });
    await lastValueFrom(c.emit(stream, { warm: true })); // the pattern's first emit also looks up its partitions
    await pauseReplica();
    const first = rejection(lastValueFrom(c.emit(stream, { n: 1 })));
    await new Promise(resolve => setImmediate(resolve));
    const second = await rejection(lastValueFrom(c.emit(stream, { n: 2 })));
    expect(second).toBeInstanceOf(RedisUnavailableError);
    expect(second.message).toBe(
      `emit("${stream}") failed: not sent within 200 ms (option writeTimeoutMs): the durable writes before it were still waiting ` +
        'for their replicas (option durability); nothing was written',
    );
    expect(await first).toBeInstanceOf(DurabilityError);
    expect(await onMaster.xlen(stream)).toBe(2);
  });

  it('rejects emits with DurabilityError when the replica does not answer, saying the entry was written', async () => {
    const stream = uniqueName('durable.stopped');
    const c = client({ durability: { replicas: 1, timeoutMs: 300 } });
    await c.connect();
    await pauseReplica();
    const error = await rejection(lastValueFrom(c.emit(stream, { n: 1 })));
    expect(error).toBeInstanceOf(DurabilityError);
    const { ids } = error as DurabilityError;
    expect(error).toMatchObject({ stream, replicas: 1, confirmed: 0, timeoutMs: 300 });
    expect(error.message).toBe(
      `emit("${stream}"): entry ${ids[0]} added to "${stream}" on the master, but only 0 of 1 replica confirmed it within 300 ms ` +
        '(option durability). It may be delivered, and is not confirmed to survive a failover; retrying may add it twice',
    );
    expect(await entryOn(onMaster, stream, ids[0])).toBeDefined();
  });

  it('rejects emitMany() and send() the same way with the replica killed, naming every entry', async () => {
    const stream = uniqueName('durable.killed');
    const c = client({ durability: { replicas: 1, timeoutMs: 300 } });
    await c.connect();
    await killReplica();
    const many = await rejection(c.emitMany(stream, Array.from({ length: 300 }, (_, n) => ({ n }))));
    expect(many).toBeInstanceOf(DurabilityError);
    const { ids } = many as DurabilityError;
    expect(ids).toHaveLength(300);
    expect(many.message).toContain(`emitMany("${stream}"): 300 entries (${ids[0]} .. ${ids[299]}) added to "${stream}" on the master, but only 0 of 1 replica`);
    expect(await onMaster.xlen(stream)).toBe(300);

    // send(): the caller gets the DurabilityError (nothing answers here); the request entry is in the stream.
    const request = await rejection(lastValueFrom(c.send(`${stream}.request`, [1])));
    expect(request).toBeInstanceOf(DurabilityError);
    expect(request.message).toContain(`send("${stream}.request"): entry`);
    expect(await onMaster.xlen(`${stream}.request`)).toBe(1);
  });

  it('rejects when fewer replicas than asked for exist (2 asked, 1 present)', async () => {
    const stream = uniqueName('durable.two');
    const c = client({ durability: { replicas: 2, timeoutMs: 200 } });
    const error = await rejection(lastValueFrom(c.emit(stream, { n: 1 })));
    expect(error).toBeInstanceOf(DurabilityError);
    expect(error).toMatchObject({ replicas: 2, confirmed: 1 });
    expect(error.message).toContain('only 1 of 2 replicas confirmed it within 200 ms (option durability)');
    // The one replica there has it.
    expect(await entryOn(onReplica, stream, (error as DurabilityError).ids[0])).toBeDefined();
  });

  it('lets WAIT take longer than writeTimeoutMs (a durable write settles within writeTimeoutMs + durability.timeoutMs)', async () => {
    const stream = uniqueName('durable.long');
    const c = client({ writeTimeoutMs: 200, durability: { replicas: 1, timeoutMs: 1000 } });
    await pauseReplica();
    // The first emit waits for the connection, the second finds it ready: both wait out WAIT's 1000 ms.
    const first = await rejection(lastValueFrom(c.emit(stream, { n: 1 })));
    const second = await rejection(lastValueFrom(c.emit(stream, { n: 2 })));
    for (const error of [first, second]) {
      expect(error).not.toBeInstanceOf(RedisUnavailableError);
      expect(error).toBeInstanceOf(DurabilityError);
      expect(error.message).toContain('only 0 of 1 replica confirmed it within 1000 ms');
    }
  });

  it('changes nothing without the option: no WAIT, emits resolve with the replica stopped', async () => {
    const stream = uniqueName('durable.off');
    const c = client();
    expect(c.options.durability).toBeUndefined();
    await c.connect();
    await pauseReplica();
    const before = await waitCalls();
    const id = await lastValueFrom(c.emit(stream, { n: 1 }));
    const ids = await c.emitMany(stream, [{ n: 2 }, { n: 3 }]);
    expect(await onMaster.xlen(stream)).toBe(3);
    expect([id, ...ids]).toHaveLength(3);
    expect(await waitCalls()).toBe(before);
  });

  it('needs WAIT in the ACL: checkPermissions() names it, an emit says it was written but not confirmed', async () => {
    const stream = uniqueName('durable.acl');
    const user = uniqueName('producer');
    await onMaster.call(
      'ACL', 'SETUSER', user, 'on', '>pw', 'resetkeys', '-@all', '+info', '+client|setname',
      `(~${stream} +xadd)`, `(~nestream:partitions:${stream} +get)`, // a producer's rules but +wait (README)
    );
    const c = client({ connection: { host: '127.0.0.1', port: master.port, username: user, password: 'pw' }, durability: { replicas: 1, timeoutMs: 200 } });
    const check = await rejection(c.checkPermissions([stream]));
    expect(check).toBeInstanceOf(PermissionError);
    expect((check as PermissionError).missing).toEqual([{ command: 'WAIT', key: '' }]);
    const error = await rejection(lastValueFrom(c.emit(stream, { n: 1 })));
    expect(error).toBeInstanceOf(DurabilityError);
    expect((error as Error).cause).toBeInstanceOf(PermissionError);
    expect(error.message).toContain('WAIT for 1 replica failed (NOPERM: the Redis user may not run WAIT');
    expect(await onMaster.xlen(stream)).toBe(1);
  });
});

describe('the durability option', () => {
  const make = (durability: unknown) => () => new RedisStreamsClient({ durability } as never);

  it.each([
    [{ replicas: 0, timeoutMs: 1000 }, '"durability.replicas": must be an integer >= 1, got 0'],
    [{ replicas: 1.5, timeoutMs: 1000 }, '"durability.replicas": must be an integer >= 1, got 1.5'],
    [{ replicas: 1, timeoutMs: 0 }, '"durability.timeoutMs": must be an integer >= 1, got 0'],
    [{ replicas: 1, timeoutMs: -5 }, '"durability.timeoutMs": must be an integer >= 1, got -5'],
    [{ replicas: 1, timeoutMs: '1000' }, '"durability.timeoutMs": must be an integer >= 1, got "1000"'],
    [{ timeoutMs: 1000 }, '"durability.replicas": is required'],
    [{ replicas: 1 }, '"durability.timeoutMs": is required'],
    [{ replicas: 1, timeout: 1000 }, '"durability.timeout": unknown option; did you mean "timeoutMs"?'],
    [true, '"durability": must be false or { replicas, timeoutMs }'],
    [1, '"durability": must be false or { replicas, timeoutMs }'],
  ])('rejects %j', (durability, message) => {
    expect(make(durability)).toThrow(InvalidOptionsError);
    expect(make(durability)).toThrow(message);
  });

  it('is off by default and with false; resolved as given otherwise', () => {
    expect(new RedisStreamsClient().options.durability).toBeUndefined();
    expect(new RedisStreamsClient({ durability: false }).options.durability).toBeUndefined();
    expect(new RedisStreamsClient({ durability: { replicas: 2, timeoutMs: 500 } }).options.durability).toEqual({ replicas: 2, timeoutMs: 500 });
  });
});
