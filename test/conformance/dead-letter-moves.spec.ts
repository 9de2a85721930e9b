import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { DEAD_LETTER_FIELDS, PermissionError, UnrecoverableEventError, type DeadLetteredEvent } from '@nestream/transport';
import { StreamsAdmin } from '@nestream/transport/admin';
import type { Redis } from 'ioredis';
import { useRedis } from '../harness/fixture.js';
import { startProxy } from '../harness/freezable-proxy.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// A dead-letter move or a redrive that fails half way (issue 19, item 3). A command refused inside a Lua script
// raises after the script's earlier writes are done: with XACK revoked while the consumer runs, the move added
// its copy and failed at the ack, and every retry of the move (1 s, 2 s, ... for as long as the refusal lasted)
// added one more: 500 dead letters for 100 entries. Same for a redrive whose XDEL is refused. Each test revokes
// the command at run time (ACL SETUSER on the user the transport connects as), waits for the refusals, gives it
// back, and counts: one dead letter per entry, one redriven entry per dead letter.
const fx = useRedis();
const f = DEAD_LETTER_FIELDS;
const PASSWORD = 'moves-test-password';
let admin: Redis;

beforeAll(() => {
  admin = fx.redis.client();
});

/** A user allowed everything, so that one command can be taken away and given back. */
async function userAllowedAll(): Promise<{ name: string; connection: { host: string; port: number; username: string; password: string } }> {
  const name = uniqueName('user');
  await admin.call('ACL', 'SETUSER', name, 'on', `>${PASSWORD}`, '~*', '&*', '+@all');
  return { name, connection: { host: '127.0.0.1', port: fx.redis.port, username: name, password: PASSWORD } };
}

async function deadLetterIds(stream: string): Promise<string[]> {
  return (await fx.deadLetters(stream)).map(letter => letter[f.id]);
}

/** Starts a consumer (connected as `connection`) whose handler refuses every entry of `stream`. */
async function refusingConsumer(stream: string, connection: object, options: object = {}) {
  @Controller()
  class Refuses {
    @EventPattern(stream)
    handle() {
      throw new UnrecoverableEventError('refused');
    }
  }
  const app = await startApp([Refuses], { connection, group: 'g', claim: { minIdleMs: 120_000 }, ...options });
  fx.apps.push(app);
  const errors: unknown[] = [];
  const dead: DeadLetteredEvent[] = [];
  app.server.on('error', err => errors.push(err));
  app.server.on('deadLettered', e => dead.push(e));
  return { errors, dead };
}

describe('a dead-letter move refused half way', () => {
  it('with XACK revoked at run time: one dead letter per entry once XACK is back, however often the move was retried', async () => {
    const stream = uniqueName('moves');
    const user = await userAllowedAll();
    const { errors, dead } = await refusingConsumer(stream, user.connection);
    await admin.call('ACL', 'SETUSER', user.name, '-xack');
    const pipeline = admin.pipeline();
    for (let n = 0; n < 100; n++) pipeline.xadd(stream, '*', 'data', JSON.stringify({ n }));
    await pipeline.exec();
    // Every move refused twice (tried again after 1 s, then 2 s), naming the command.
    await waitFor(() => errors.length >= 200, 'each move refused twice');
    expect(errors.every(err => err instanceof PermissionError && /XACK/.test(err.message))).toBe(true);
    await admin.call('ACL', 'SETUSER', user.name, '+xack');
    await waitFor(async () => (await fx.pending(stream)) === 0, 'every entry moved once XACK is back');
    await waitFor(() => dead.length === 100, 'a deadLettered event per entry');
    const ids = await deadLetterIds(stream);
    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
  });

  it('with boundedReads and XACK revoked: one dead letter per oversized entry, the others handled once XACK is back', async () => {
    const stream = uniqueName('bounded-moves');
    const user = await userAllowedAll();
    const handled: number[] = [];
    @Controller()
    class Events {
      @EventPattern(stream)
      handle(data: { n: number }) {
        handled.push(data.n);
      }
    }
    const app = await startApp([Events], { connection: user.connection, group: 'g', boundedReads: true, maxPayloadBytes: 1000, claim: { minIdleMs: 120_000 } });
    fx.apps.push(app);
    const errors: unknown[] = [];
    app.server.on('error', err => errors.push(err));
    await admin.call('ACL', 'SETUSER', user.name, '-xack');
    const pipeline = admin.pipeline();
    for (let n = 0; n < 40; n++) pipeline.xadd(stream, '*', 'data', JSON.stringify({ n, pad: n % 2 === 0 ? 'x'.repeat(2000) : '' }));
    await pipeline.exec();
    await waitFor(() => errors.length >= 1, 'a read refused');
    await admin.call('ACL', 'SETUSER', user.name, '+xack');
    await waitFor(async () => handled.length === 20 && (await admin.xlen(`${stream}:dlq`)) === 20, 'every entry settled once XACK is back');
    await waitFor(async () => (await fx.pending(stream)) === 0, 'nothing pending');
    expect(handled.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i + 1));
    const ids = await deadLetterIds(stream);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });
});

describe('a dead-letter move whose reply was lost', () => {
  it('is tried again and finds the entry moved: no second dead letter', async () => {
    const stream = uniqueName('lost-reply');
    const proxy = await startProxy(fx.redis.port);
    try {
      const { dead } = await refusingConsumer(stream, proxy.url as never, { commandTimeoutMs: 500 });
      // Each run of the move reads the entry (XRANGE) first, in old and new versions of the script.
      const moveRuns = async () => Number(/cmdstat_xrange:calls=(\d+)/.exec((await admin.info('commandstats')) as string)?.[1] ?? 0);
      // A first move loads the script, so the next one is one EVALSHA.
      await admin.xadd(stream, '*', 'data', '{"n":1}');
      await waitFor(() => dead.length === 1, 'the first entry dead-lettered');
      const before = await moveRuns();
      proxy.dropRepliesAfter('nestream:commands', 'EVALSHA');
      await admin.xadd(stream, '*', 'data', '{"n":2}');
      // The move ran in Redis, its reply never came back: the socket is replaced after commandTimeoutMs, and the
      // move is sent again on the new one (by ioredis's resend, or by the settler's retry).
      await waitFor(async () => (await moveRuns()) >= before + 2, 'the move run again');
      await waitFor(async () => (await fx.pending(stream)) === 0, 'nothing pending');
      const ids = await deadLetterIds(stream);
      expect(ids).toHaveLength(2);
      expect(new Set(ids).size).toBe(2);
    } finally {
      await Promise.all(fx.apps.splice(0).map(a => a.close())); // while its connections still reach Redis
      await proxy.close();
    }
  });
});

describe('a redrive refused half way', () => {
  it('with XDEL revoked at run time: fails naming XDEL, and once XDEL is back puts each dead letter back once', async () => {
    const stream = uniqueName('redrive-moves');
    const user = await userAllowedAll();
    await admin.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
    for (let n = 0; n < 20; n++) {
      await admin.xadd(`${stream}:dlq`, '*', 'data', JSON.stringify({ n }), f.stream, stream, f.id, `1-${n}`, f.group, 'g', f.reason, 'max-attempts');
    }
    const operator = new StreamsAdmin({ connection: user.connection });
    const refusals: unknown[] = [];
    try {
      await admin.call('ACL', 'SETUSER', user.name, '-xdel');
      // Twice, as an operator would before fixing the ACL.
      for (let i = 0; i < 2; i++) {
        refusals.push(await operator.deadLetters.redrive(stream, { all: true, chunkSize: 5 }).then(() => undefined, (err: unknown) => err));
      }
      await admin.call('ACL', 'SETUSER', user.name, '+xdel');
      await operator.deadLetters.redrive(stream, { all: true, chunkSize: 5 });
    } finally {
      await operator.close();
    }
    const redriven = ((await admin.xrange(stream, '-', '+')) as Array<[string, string[]]>).map(([, fields]) => fields[fields.indexOf('redrive.from') + 1]);
    expect(redriven).toHaveLength(20);
    expect(new Set(redriven).size).toBe(20);
    expect(await admin.xlen(`${stream}:dlq`)).toBe(0);
    for (const refused of refusals) {
      expect(refused).toBeInstanceOf(PermissionError);
      expect((refused as Error).message).toContain(`XDEL on "${stream}:dlq"`);
    }
  });
});
