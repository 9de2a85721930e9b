import 'reflect-metadata';
import { Controller, Module, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Registry } from 'prom-client';
import { RedisStreamsServer, type DeletedEvent, type RedisStreamsServerOptions } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import type { TestApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { metricValue } from '../observability/metric-values.js';

// Issue 19, item 6: every entry that disappears before it was handled is counted (a `deleted` event, the
// nestream_messages_trimmed_total metric, a log line that says trimmed), whether the group had read it or not.
const fx = useRedis();

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

/** A microservice whose transport logs into `logger`; closed after the test. */
async function startLogged(controllers: Type<unknown>[], options: RedisStreamsServerOptions, logger: LoggerService | false): Promise<TestApp> {
  @Module({ controllers })
  class TestModule {}
  const server = new RedisStreamsServer(options);
  const app = await NestFactory.createMicroservice(TestModule, { strategy: server, logger });
  await app.listen();
  let closed = false;
  const started = { app, server, close: async () => { if (!closed) { closed = true; await app.close(); } } };
  fx.apps.push(started);
  return started;
}

describe("entries a producer's maxLen trimmed before the group read them", () => {
  it('are counted once, by event, metric and a warning naming maxLen, when the stopped consumers start again', async () => {
    const pattern = uniqueName('unread');
    const handled = new Set<number>();
    @Controller()
    class Recorder {
      @EventPattern(pattern)
      handle(@Payload() data: { n: number }) {
        handled.add(data.n);
      }
    }
    // The group exists (its consumer ran once), then every consumer is stopped.
    const first = await startLogged([Recorder], { connection: fx.redis.url, group: 'g' }, false);
    await first.close();

    const total = 5000;
    const producer = fx.client({ maxLen: 100 });
    for (let i = 0; i < total; i += 100) await producer.emitMany(pattern, Array.from({ length: 100 }, (_, k) => ({ n: i + k })));
    const left = await fx.redis.client().xlen(pattern);
    expect(left).toBeLessThan(total / 2);

    // Two consumers of the group start at once: the loss is counted once between them, not once each.
    const registry = new Registry();
    const loggers = [new RecordingLogger(), new RecordingLogger()];
    const deleted: DeletedEvent[] = [];
    for (const [i, logger] of loggers.entries()) {
      const { server } = await startLogged([Recorder], { connection: fx.redis.url, group: 'g', consumer: `c${i}`, metrics: { registry } }, logger);
      server.on('deleted', e => deleted.push(e));
    }
    await waitFor(() => handled.size === left, 'the entries left in the stream handled');
    const lost = total - left;
    await waitFor(() => deleted.reduce((sum, e) => sum + e.count, 0) >= lost, 'the trimmed entries reported');

    expect(deleted.every(e => e.unread && e.ids.length === 0 && e.stream === pattern)).toBe(true);
    expect(deleted.reduce((sum, e) => sum + e.count, 0)).toBe(lost);
    expect(await metricValue(registry, 'nestream_messages_trimmed_total', { stream: pattern, group: 'g', reason: 'unread' })).toBe(lost);
    const warnings = loggers.flatMap(l => l.matching('warn', /^Trimmed: \d+ entries of .* before group "g" read them.*maxLen/));
    expect(warnings.map(w => Number(/^Trimmed: (\d+)/.exec(w.text)![1])).reduce((a, b) => a + b, 0)).toBe(lost);
    // Nothing handled twice or invented: the handled ones are exactly the newest entries.
    expect(Math.min(...handled)).toBe(lost);
    expect(Math.max(...handled)).toBe(total - 1);
  });
});

describe("entries a producer's maxLen trims while a running consumer is backlogged", () => {
  it('are counted before the reader reads across the gap, without waiting for a claim round', async () => {
    const pattern = uniqueName('backlog');
    const handled = new Set<number>();
    let release!: () => void;
    const gate = new Promise<void>(resolve => (release = resolve));
    let started = 0;
    @Controller()
    class Gated {
      @EventPattern(pattern)
      async handle(@Payload() data: { n: number }) {
        started++;
        await gate;
        handled.add(data.n);
      }
    }
    const registry = new Registry();
    // No claim round during the test: only the reader's check before a read can count the gap.
    const { server } = await startLogged(
      [Gated],
      { connection: fx.redis.url, group: 'g', concurrency: 4, readBatchSize: 4, claim: { intervalMs: 60_000, minIdleMs: 120_000 }, metrics: { registry } },
      false,
    );
    const deleted: DeletedEvent[] = [];
    server.on('deleted', e => deleted.push(e));
    await fx.client().emitMany(pattern, Array.from({ length: 8 }, (_, n) => ({ n })));
    await waitFor(() => started === 4, 'a full read of 4 entries running');
    // While the consumer is busy, a producer with maxLen 100 writes 2,000 more: the oldest unread ones are trimmed.
    const total = 8 + 2000;
    const producer = fx.client({ maxLen: 100 });
    for (let i = 8; i < total; i += 100) await producer.emitMany(pattern, Array.from({ length: 100 }, (_, k) => ({ n: i + k })));
    const left = await fx.redis.client().xlen(pattern);
    release();
    await waitFor(() => handled.size === 4 + left, 'the entries read and those left in the stream handled');
    const lost = total - handled.size;
    expect(deleted.every(e => e.unread)).toBe(true);
    expect(deleted.reduce((sum, e) => sum + e.count, 0)).toBe(lost);
    expect(await metricValue(registry, 'nestream_messages_trimmed_total', { stream: pattern, group: 'g', reason: 'unread' })).toBe(lost);
    expect(lost).toBeGreaterThan(1500);
  });
});

describe('an entry trimmed while its handler runs', () => {
  it('is reported as deleted, with a log line that says trimmed, not taken over', async () => {
    const pattern = uniqueName('running');
    let release!: () => void;
    const released = new Promise<void>(resolve => (release = resolve));
    let started!: (id: string) => void;
    const running = new Promise<string>(resolve => (started = resolve));
    let calls = 0;
    @Controller()
    class Slow {
      @EventPattern(pattern)
      async handle() {
        calls++;
        started('');
        await released;
      }
    }
    const logger = new RecordingLogger();
    const registry = new Registry();
    // Leases are renewed after minIdleMs / 3 = 200 ms, every 100 ms: the renewal is what finds the entry gone.
    const { server } = await startLogged(
      [Slow],
      { connection: fx.redis.url, group: 'g', claim: { minIdleMs: 600, intervalMs: 100 }, metrics: { registry } },
      logger,
    );
    const deleted = new Promise<DeletedEvent>(resolve => server.on('deleted', resolve));
    const [id] = (await fx.client().emitMany(pattern, [{ n: 1 }])) as string[];
    await running;
    await fx.redis.client().xdel(pattern, id);

    const event = await deleted;
    release();
    expect(event).toEqual({ stream: pattern, ids: [id], count: 1, unread: false });
    expect(logger.matching('warn', new RegExp(`^Trimmed: entry ${id} of ${pattern} trimmed or deleted while held here`))).toHaveLength(1);
    expect(logger.lines.filter(l => /taken over|claimed by another consumer/.test(l.text))).toEqual([]);
    expect(await metricValue(registry, 'nestream_messages_trimmed_total', { stream: pattern, group: 'g', reason: 'pending' })).toBe(1);
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'nothing pending');
    expect(calls).toBe(1);
  });
});

describe('a consumer whose ACL user may not run XINFO or XGROUP SETID', () => {
  it('still starts and handles entries, and says once that it cannot count entries trimmed before its group read them', async () => {
    const pattern = uniqueName('noxinfo');
    const user = uniqueName('user');
    await fx.redis.client().call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-xinfo', '-xgroup|setid');
    const handled: number[] = [];
    @Controller()
    class Recorder {
      @EventPattern(pattern)
      handle(@Payload() data: { n: number }) {
        handled.push(data.n);
      }
    }
    const logger = new RecordingLogger();
    const { server } = await startLogged(
      [Recorder],
      { connection: `redis://${user}:pw@127.0.0.1:${fx.redis.port}`, group: 'g', claim: { intervalMs: 50 } },
      logger,
    );
    const errors: unknown[] = [];
    server.on('error', err => errors.push(err));
    await fx.client().emitMany(pattern, [{ n: 1 }, { n: 2 }]);
    await waitFor(() => handled.length === 2, 'both handled');
    const warning = /^Entries trimmed before group "g" read them cannot be counted: .*Allow XINFO and XGROUP SETID/;
    await waitFor(() => logger.matching('warn', warning).length > 0, 'the warning');
    expect(logger.matching('warn', warning)).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
