import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamContext, RedisStreamRecordBuilder } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { sigkill, startChild } from '../harness/child.js';
import { uniqueName, waitFor } from '../harness/wait.js';

/**
 * An ordered partition's owner that stalls past its lease (issue 19, item 7): the partition's next owner runs the
 * entry and later ones meanwhile; when the stalled call finishes, the transport says so (a warning naming the
 * entry, the partition and the lease generation, nestream_partition_late_completions_total, a `lateCompletion`
 * event), and the fencing token each call saw (the lease generation) tells the two owners apart.
 */
const fx = useRedis();
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(sigkill));
});

describe('a stalled owner of an ordered partition', () => {
  it('reports its late completion (warning, metric, event) and saw a smaller fencing token than the next owner', async () => {
    const pattern = uniqueName('stall');
    const stream = `${pattern}:{0}`;
    const redis = fx.redis.client();
    const staller = await startChild('stalled-partition-owner.mjs', [fx.redis.url, pattern, 'staller']);
    children.push(staller);
    await waitFor(async () => (await redis.get(`${stream}:owner:g`)) === 'staller', 'the staller owning the partition');
    // The taker joins the group: one partition, so it owns nothing while the staller holds the lease.
    children.push(await startChild('stalled-partition-owner.mjs', [fx.redis.url, pattern, 'taker']));
    await waitFor(async () => (await redis.zcard(`nestream:partition-consumers:1:g:${pattern}`)) === 2, 'both consumers in the membership set');

    const client = fx.client();
    await client.emitMany(pattern, [{ seq: 0, stall: true }]);
    await waitFor(async () => (await redis.lrange(`runs:${pattern}`, 0, -1)).includes('staller:0:1'), 'the staller running seq 0 under generation 1');
    await client.emitMany(pattern, Array.from({ length: 9 }, (_, i) => ({ seq: i + 1 })));

    await waitFor(async () => (await redis.llen(`late:${pattern}`)) === 1, 'one late completion reported', 15_000);
    const late = JSON.parse((await redis.lindex(`late:${pattern}`, 0))!) as { stream: string; id: string; fencingToken: number; owner: string; metric: string };
    const [[firstId]] = (await redis.xrange(stream, '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
    expect(late).toMatchObject({ stream, id: firstId, fencingToken: 1, owner: 'taker' });
    expect(late.metric).toContain(`nestream_partition_late_completions_total{stream="${stream}",group="g"} 1`);
    const warnings = await redis.lrange(`warn:${pattern}`, 0, -1);
    expect(warnings.filter(w => w.includes('lost the partition\'s lease'))).toEqual([
      expect.stringContaining(`Entry ${firstId} of partition ${stream} finished after this consumer lost the partition's lease (generation 1; held by taker now)`),
    ]);

    // The taker ran everything (seq 0 again: it was pending when the lease passed) under a greater token.
    await waitFor(async () => (await redis.lrange(`runs:${pattern}`, 0, -1)).filter(r => r.startsWith('taker:')).length === 10, 'the taker running all 10');
    const runs = await redis.lrange(`runs:${pattern}`, 0, -1);
    expect(runs.filter(r => r.startsWith('staller:'))).toEqual(['staller:0:1']);
    expect(runs.filter(r => r.startsWith('taker:'))).toEqual(Array.from({ length: 10 }, (_, seq) => `taker:${seq}:2`));
    expect(await redis.get(`${stream}:owner-generation:g`)).toBe('2');
  });

  it('reports nothing when no other consumer took the partition meanwhile (it takes the lease back itself)', async () => {
    const pattern = uniqueName('alone');
    const stream = `${pattern}:{0}`;
    const redis = fx.redis.client();
    children.push(await startChild('stalled-partition-owner.mjs', [fx.redis.url, pattern, 'staller']));
    await waitFor(async () => (await redis.get(`${stream}:owner:g`)) === 'staller', 'the staller owning the partition');
    const client = fx.client();
    await client.emitMany(pattern, [{ seq: 0, stall: true }, { seq: 1 }, { seq: 2 }]);
    // Its lease ran out during the stall; nobody took it; it takes it again (generation 2) and runs on.
    await waitFor(async () => (await redis.lrange(`runs:${pattern}`, 0, -1)).includes('staller:2:2'), 'seq 2 run under generation 2', 15_000);
    const runs = await redis.lrange(`runs:${pattern}`, 0, -1);
    expect(runs.filter(r => r.startsWith('staller:0:'))).toEqual(['staller:0:1']); // run once, not twice
    expect(await redis.llen(`late:${pattern}`)).toBe(0);
    expect((await redis.lrange(`warn:${pattern}`, 0, -1)).filter(w => w.includes("lost the partition's lease"))).toEqual([]);
  });

  it('gives a fencing token to ordered partitions only, and the same one to every call under one lease', async () => {
    const pattern = uniqueName('token');
    const plain = uniqueName('plain');
    const tokens: Array<[string, number | undefined]> = [];
    @Controller()
    class Tokens {
      @EventPattern(pattern, { partitions: 2, ordered: true })
      ordered(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
        tokens.push([`ordered:${ctx.getPartition()}`, ctx.getFencingToken()]);
      }

      @EventPattern(plain, { partitions: 2 })
      unordered(@Payload() data: { n: number }, @Ctx() ctx: RedisStreamContext) {
        tokens.push(['unordered', ctx.getFencingToken()]);
      }
    }
    fx.apps.push(await startApp([Tokens], { connection: fx.redis.url, group: 'g', blockMs: 200, claim: { minIdleMs: 2000, intervalMs: 100 } }));
    const client = fx.client();
    const keyed = (n: number) => new RedisStreamRecordBuilder({ n }).setPartitionKey(`k${n}`).build();
    await client.emitMany(pattern, Array.from({ length: 10 }, (_, n) => keyed(n)));
    await client.emitMany(plain, Array.from({ length: 4 }, (_, n) => ({ n })));
    await waitFor(() => tokens.length === 14, 'all 14 handled');
    expect(tokens.filter(([kind]) => kind === 'unordered').map(([, t]) => t)).toEqual([undefined, undefined, undefined, undefined]);
    for (const partition of [0, 1]) {
      const seen = new Set(tokens.filter(([kind]) => kind === `ordered:${partition}`).map(([, t]) => t));
      expect([...seen]).toEqual([Number(await fx.redis.client().get(`${pattern}:{${partition}}:owner-generation:g`))]);
    }
  });
});
