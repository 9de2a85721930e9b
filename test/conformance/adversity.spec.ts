import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Module, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamRecordBuilder, RedisStreamsServer, UnrecoverableEventError, type RedisStreamContext } from '@nestream/transport';
import { sigkill } from '../harness/child.js';
import { useRedis } from '../harness/fixture.js';
import { startProxy } from '../harness/freezable-proxy.js';
import { startApp } from '../harness/nest-app.js';
import { startRedis } from '../harness/redis-server.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// The probes of issue 13 ("found under adversity"), each one a test that failed on the earlier core.
const fx = useRedis();
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

function moduleOf(controllers: Type<unknown>[]): Type<unknown> {
  @Module({ controllers })
  class TestModule {}
  return TestModule;
}

/** Records what the transport logs, by level. */
class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; text: string }> = [];
  log(m: unknown) { this.lines.push({ level: 'log', text: String(m) }); }
  error(m: unknown, ...rest: unknown[]) { this.lines.push({ level: 'error', text: [m, ...rest].map(String).join('\n') }); }
  warn(m: unknown) { this.lines.push({ level: 'warn', text: String(m) }); }
  debug(m: unknown) { this.lines.push({ level: 'debug', text: String(m) }); }
  verbose(m: unknown) { this.lines.push({ level: 'verbose', text: String(m) }); }
  matching(level: string, re: RegExp) {
    return this.lines.filter(l => l.level === level && re.test(l.text));
  }
}

describe('a downstream outage with a backlog', () => {
  it('keeps the entries held in memory bounded while every handler call fails, and drains the backlog once the outage ends', async () => {
    const pattern = uniqueName('outage');
    const client = fx.client();
    const total = 20_000;
    for (let i = 0; i < total; i += 1000) await client.emitMany(pattern, Array.from({ length: 1000 }, (_, k) => ({ n: i + k })));
    let outage = true;
    const handled = new Set<number>();
    let calls = 0;
    @Controller()
    class Downstream {
      @EventPattern(pattern)
      handle(@Payload() data: { n: number }) {
        calls++;
        if (outage) throw new Error('downstream unavailable');
        handled.add(data.n);
      }
    }
    const app = await startApp([Downstream], {
      connection: fx.redis.url, group: 'g', startId: '0', concurrency: 64,
      retry: { maxAttempts: 1000, backoff: { type: 'fixed', delayMs: 100, jitter: 0 } },
    });
    fx.apps.push(app);
    const bound = app.server.options.concurrency + app.server.options.maxWaitingRetries;
    let peakHeld = 0;
    const sampler = setInterval(() => (peakHeld = Math.max(peakHeld, app.server.stats.held)), 5);
    try {
      await waitFor(() => calls >= 3 * bound, 'the outage has been going on for a few rounds of retries');
      outage = false;
      await waitFor(() => handled.size === total, `all ${total} entries handled after the outage`, 60_000);
    } finally {
      clearInterval(sampler);
    }
    // The earlier core pulled the whole backlog into memory (194,048 of 200,000 entries in the probe).
    expect(peakHeld).toBeLessThanOrEqual(bound);
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'nothing pending');
  });
});

describe('many retries due at once', () => {
  it('takes every retry back on time on one consumer: no lease is lost and nothing waits for a claim', async () => {
    const pattern = uniqueName('due');
    const client = fx.client();
    const total = 20_000;
    await client.emitMany(pattern, Array.from({ length: total }, (_, n) => ({ n })));
    const attempts = new Map<number, number[]>();
    @Controller()
    class FailsOnce {
      @EventPattern(pattern)
      handle(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
        const seen = attempts.get(data.n) ?? [];
        seen.push(ctx.getDeliveryCount());
        attempts.set(data.n, seen);
        if (ctx.getDeliveryCount() === 1) throw new Error('first attempt fails');
      }
    }
    const app = await startApp([FailsOnce], {
      connection: fx.redis.url, group: 'g', startId: '0', concurrency: 256, maxWaitingRetries: total,
      // Renewals run (every minIdleMs / 3) while the retries wait.
      claim: { minIdleMs: 1500, intervalMs: 100 },
      retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 1500, jitter: 0 } },
    });
    fx.apps.push(app);
    const claimed: string[] = [];
    app.server.on('claimed', e => claimed.push(...e.ids));
    await waitFor(() => [...attempts.values()].filter(a => a.length === 2).length === total, 'every entry ran twice', 60_000);
    // A retry whose take-back failed would have come back only through XAUTOCLAIM ('claimed'), or not at all.
    expect(claimed).toEqual([]);
    expect([...attempts.values()].every(a => a[0] === 1 && a[1] === 2)).toBe(true);
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'nothing pending');
  });
});

describe('a lost lease', () => {
  it('never runs an entry on two consumers at once when a stalled consumer finds its lease taken', async () => {
    const pattern = uniqueName('lease');
    const spawnConsumer = (name: string, role: string) => {
      const child = spawn(process.execPath, [join(fixtures, 'lease-consumer.mjs'), fx.redis.url, pattern, name, role], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      const printed = (word: string) =>
        new Promise<void>((resolve, reject) => {
          const check = () => out.includes(word) && resolve();
          child.stdout!.on('data', (b: Buffer) => ((out += b.toString()), check()));
          child.once('exit', code => reject(new Error(`${name} exited with ${code}`)));
          check();
        });
      return { child, printed };
    };
    const staller = spawnConsumer('staller', 'staller');
    const taker = spawnConsumer('taker', 'taker');
    const children: ChildProcess[] = [staller.child, taker.child];
    try {
      await Promise.all([staller.printed('created'), taker.printed('created')]);
      staller.child.stdin!.write('go\n');
      await staller.printed('ready');
      await fx.client().emitMany(pattern, [{ n: 1 }]);
      const r = fx.redis.client();
      await waitFor(async () => (await r.lrange(`runs:${pattern}`, 0, -1)).includes('staller:1'), 'the staller runs the entry');
      taker.child.stdin!.write('go\n');
      await waitFor(async () => (await r.lrange(`runs:${pattern}`, 0, -1)).includes('taker:2'), 'the taker claims the entry');
      await waitFor(async () => (await fx.pending(pattern)) === 0, 'the entry handled and acked', 30_000);
      // The earlier core retried the entry on the staller with XCLAIM min-idle 0 while the taker ran it.
      expect(await r.get(`overlap:${pattern}`)).toBeNull();
      expect(await r.lrange(`runs:${pattern}`, 0, -1)).toEqual(['staller:1', 'taker:2']);
    } finally {
      await Promise.all(children.map(sigkill));
    }
  });
});

describe('a frozen commands socket', () => {
  it('replaces the commands connection and goes on handling and acking', async () => {
    const proxy = await startProxy(fx.redis.port);
    try {
      const pattern = uniqueName('frozen');
      const handled = new Set<number>();
      @Controller()
      class Recorder {
        @EventPattern(pattern)
        handle(@Payload() data: { n: number }) {
          handled.add(data.n);
        }
      }
      const app = await startApp([Recorder], { connection: proxy.url, group: 'g', commandTimeoutMs: 500, claim: { minIdleMs: 60_000, intervalMs: 200 } });
      fx.apps.push(app);
      const client = fx.client();
      await client.emitMany(pattern, Array.from({ length: 100 }, (_, n) => ({ n })));
      await waitFor(async () => handled.size === 100 && (await fx.pending(pattern)) === 0, 'first 100 handled and acked');
      // Open but silent: nothing passes either way, and no error reaches the client.
      proxy.freeze('nestream:commands');
      await client.emitMany(pattern, Array.from({ length: 100 }, (_, n) => ({ n: 100 + n })));
      await waitFor(() => handled.size === 200, 'the next 100 handled');
      await waitFor(async () => (await fx.pending(pattern)) === 0, 'and acked over a new commands connection');
    } finally {
      await proxy.close();
    }
  });
});

describe('handlers that never settle', () => {
  it('counts a handler past handlerTimeoutMs as a failed attempt and dead-letters it after the last one', async () => {
    const pattern = uniqueName('hang');
    let calls = 0;
    @Controller()
    class Hangs {
      @EventPattern(pattern)
      handle() {
        calls++;
        return new Promise(() => undefined);
      }
    }
    const app = await startApp([Hangs], {
      connection: fx.redis.url, group: 'g', handlerTimeoutMs: 200, concurrency: 4,
      retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50, jitter: 0 } },
    });
    fx.apps.push(app);
    await fx.client().emitMany(pattern, [{ n: 1 }]);
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'dead-lettered after two timed-out attempts');
    const [dead] = await fx.deadLetters(pattern);
    expect(dead['dlq.reason']).toBe('max-attempts');
    expect(dead['dlq.error.name']).toBe('HandlerTimeoutError');
    expect(calls).toBe(2);
    // The slots of the hung calls were given back: the consumer goes on.
    expect(app.server.stats.inFlight).toBe(0);
  });

  it('sends nothing and reports nothing once closed, when a handler finishes after close()', async () => {
    const pattern = uniqueName('late');
    let finish!: () => void;
    const finished = new Promise<void>(resolve => (finish = resolve));
    let release!: () => void;
    @Controller()
    class Late {
      @EventPattern(pattern)
      async handle() {
        await new Promise<void>(resolve => (release = resolve));
        finish();
      }
    }
    const app = await startApp([Late], { connection: fx.redis.url, group: 'g', shutdownTimeoutMs: 100 });
    const errors: unknown[] = [];
    app.server.on('error', err => errors.push(err));
    await fx.client().emitMany(pattern, [{ n: 1 }]);
    await waitFor(() => release !== undefined, 'the handler started');
    await app.close();
    release();
    await finished;
    // The earlier acker tried its XACK again every 500 ms on the closed connection, reporting each failure:
    // nothing to await here, only a window in which nothing may happen.
    await new Promise(r => setTimeout(r, 1200));
    expect(errors).toEqual([]);
    expect(await fx.pending(pattern)).toBe(1); // not acked: it stays for whoever comes next
  });
});

describe('trimmed entries', () => {
  it('reports an entry trimmed while it waits for its retry as deleted, and never runs it again', async () => {
    const pattern = uniqueName('trimretry');
    let calls = 0;
    @Controller()
    class FailsOnce {
      @EventPattern(pattern)
      handle() {
        calls++;
        throw new Error('fails');
      }
    }
    const app = await startApp([FailsOnce], {
      connection: fx.redis.url, group: 'g', retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 500, jitter: 0 } },
    });
    fx.apps.push(app);
    const deleted: string[] = [];
    app.server.on('deleted', e => deleted.push(...e.ids));
    const failed = new Promise<string>(resolve => app.server.on('failed', e => resolve(e.id)));
    await fx.client().emitMany(pattern, [{ n: 1 }]);
    const id = await failed;
    await fx.redis.client().xtrim(pattern, 'MAXLEN', 0);
    await waitFor(() => deleted.includes(id), 'the trimmed id reported as deleted');
    expect(calls).toBe(1);
    expect(await fx.pending(pattern)).toBe(0);
  });
});

describe('a settlement Redis refuses', () => {
  it('retries only the dead-letter move, never the handler, and names the refused command', async () => {
    const pattern = uniqueName('refused');
    const admin = fx.redis.client();
    const user = uniqueName('user');
    await admin.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all');
    let calls = 0;
    @Controller()
    class Poison {
      @EventPattern(pattern)
      handle() {
        calls++;
        throw new UnrecoverableEventError('poison');
      }
    }
    const url = `redis://${user}:pw@127.0.0.1:${fx.redis.port}`;
    const app = await startApp([Poison], { connection: url, group: 'g', claim: { minIdleMs: 300, intervalMs: 100 } });
    fx.apps.push(app);
    const errors: Error[] = [];
    app.server.on('error', err => errors.push(err as Error));
    // Taken away at run time: the dead-letter stream may no longer be written.
    await admin.call('ACL', 'SETUSER', user, '-xadd');
    await fx.client().emitMany(pattern, [{ n: 1 }]);
    await waitFor(() => errors.length >= 1, 'the refused move reported');
    expect(JSON.stringify(errors.map(e => [e.message, (e as { previousErrors?: Error[] }).previousErrors?.map(p => p.message)]))).toMatch(/NOPERM/);
    // The move is tried again after 1 s; meanwhile claims ran every 100 ms with a 300 ms min-idle, and the
    // earlier core handed the entry to the handler again on each.
    await waitFor(() => errors.length >= 2, 'the move tried again and refused again');
    expect(calls).toBe(1);
    await admin.call('ACL', 'SETUSER', user, '+xadd');
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'dead-lettered once the permission is back', 20_000);
    expect(calls).toBe(1);
    expect(await fx.pending(pattern)).toBe(0);
  });
});

describe('start-up', () => {
  it('fails listen() on a wrong password instead of retrying it as an outage', async () => {
    const redis = await startRedis();
    try {
      await redis.client().config('SET', 'requirepass', 'right');
      const pattern = uniqueName('auth');
      @Controller()
      class Any {
        @EventPattern(pattern)
        handle() {}
      }
      const server = new RedisStreamsServer({ connection: `redis://:wrong@127.0.0.1:${redis.port}`, group: 'g' });
      const app = await NestFactory.createMicroservice(
        moduleOf([Any]),
        { strategy: server, logger: false },
      );
      await expect(app.listen()).rejects.toThrow(/WRONGPASS/);
      await app.close();
    } finally {
      await redis.stop();
    }
  });

  it('warns, with the count, when a new group at $ will not see the entries already in the stream', async () => {
    const pattern = uniqueName('history');
    await fx.client().emitMany(pattern, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    @Controller()
    class Any {
      @EventPattern(pattern)
      handle() {}
    }
    const logger = new RecordingLogger();
    const server = new RedisStreamsServer({ connection: fx.redis.url, group: 'late' });
    const app = await NestFactory.createMicroservice(
      moduleOf([Any]),
      { strategy: server, logger },
    );
    await app.listen();
    try {
      expect(logger.matching('warn', /the 3 entries already in the stream will not be delivered.*startId: '0'/)).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

describe('failure logs', () => {
  it('logs one line per failed attempt, and the stack trace only with the dead letter', async () => {
    const pattern = uniqueName('logs');
    @Controller()
    class Fails {
      @EventPattern(pattern)
      handle() {
        throw new Error('always');
      }
    }
    const logger = new RecordingLogger();
    const server = new RedisStreamsServer({
      connection: fx.redis.url, group: 'g', retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } },
    });
    const app = await NestFactory.createMicroservice(
      moduleOf([Fails]),
      { strategy: server, logger },
    );
    await app.listen();
    try {
      // The producer's trace (W3C traceparent header) is named in each line.
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      await fx.client().emitMany(pattern, [new RedisStreamRecordBuilder({ n: 1 }).setHeaders({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` }).build()]);
      await waitFor(async () => (await fx.deadLetters(pattern)).length === 1, 'dead-lettered');
      const failures = logger.lines.filter(l => /failed on entry/.test(l.text));
      expect(failures.every(l => l.text.split('\n')[0].endsWith(`trace_id=${traceId}`))).toBe(true);
      expect(failures.map(l => l.level)).toEqual(['warn', 'warn', 'error']);
      expect(failures[0].text.split('\n')).toHaveLength(1);
      expect(failures[2].text).toMatch(/attempt 3\/3.*-> dead letter[\s\S]*at /);
      // Nest's exception filter printed the full stack on every attempt: now only at debug level.
      expect(logger.lines.filter(l => l.level === 'error' && !/failed on entry/.test(l.text))).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
