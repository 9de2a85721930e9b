import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { runCli } from './cli.js';

const fx = useRedis();

describe('a dead-letter incident, end to end', () => {
  it('dead-letters an event while the handler fails; once fixed, `nestream dlq redrive` sends it back and it is handled', async () => {
    const stream = uniqueName('orders.created');
    let broken = true;
    const handled: Array<{ order: unknown; attempt: number }> = [];
    @Controller()
    class Inventory {
      @EventPattern(stream)
      reserve(@Payload() order: object, @Ctx() ctx: RedisStreamContext) {
        if (broken) throw new Error('warehouse south offline');
        handled.push({ order, attempt: ctx.getDeliveryCount() });
      }
    }
    const retry = { maxAttempts: 2, backoff: { type: 'fixed' as const, delayMs: 50, jitter: 0 } };
    fx.apps.push(await startApp([Inventory], { connection: fx.redis.url, group: 'inventory', retry }));
    await fx.client().emitMany(stream, [{ id: 7 }]);
    await waitFor(async () => (await fx.deadLetters(stream)).length === 1, 'the event dead-lettered');

    // Still broken: the redriven event fails again and comes back to the dead-letter stream, counted.
    const first = await runCli(['dlq', 'redrive', stream, '--all', '--url', fx.redis.url]);
    expect(first.stdout).toMatch(new RegExp(`^Moved 1 dead letter from ${stream}:dlq back to ${stream} \\(group inventory\\)\\.\\n`));
    await waitFor(async () => (await fx.deadLetters(stream)).length === 1 && (await fx.redis.client().xlen(stream)) === 2, 'dead-lettered again');
    const list = await runCli(['dlq', 'list', stream, '--json', '--url', fx.redis.url]);
    const [again] = JSON.parse(list.stdout).entries;
    expect(again).toMatchObject({ reason: 'max-attempts', attempts: 2, error: { name: 'Error', message: 'warehouse south offline' }, data: { id: 7 } });
    expect(again.redrive).toEqual({ count: 1, from: expect.stringMatching(/^\d+-\d+$/) });

    broken = false;
    const second = await runCli(['dlq', 'redrive', stream, '--ids', again.id, '--url', fx.redis.url]);
    expect(second.code).toBe(0);
    await waitFor(() => handled.length === 1, 'the redriven event handled');
    expect(handled).toEqual([{ order: { id: 7 }, attempt: 1 }]);
    await waitFor(async () => (await fx.pending(stream, 'inventory')) === 0, 'acked');
    expect(await fx.deadLetters(stream)).toEqual([]);
    const [, , last] = (await fx.redis.client().xrange(stream, '-', '+')) as Array<[string, string[]]>;
    expect(last[1].slice(-4)).toEqual(['redrive.count', '2', 'redrive.from', again.id]);

    const status = JSON.parse((await runCli(['status', stream, '--json', '--url', fx.redis.url])).stdout);
    expect(status.streams[0]).toMatchObject({ length: 3, deadLetter: { length: 0 }, groups: [{ name: 'inventory', pending: 0, lag: 0 }] });
  });
});
