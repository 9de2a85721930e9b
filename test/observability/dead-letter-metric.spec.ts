import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { Registry } from 'prom-client';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { metricValue } from './metric-values.js';

const fx = useRedis();

describe('nestream_messages_dead_lettered_total', () => {
  it('counts the oversized entries a bounded read dead-letters inside Redis, like every other dead letter', async () => {
    const registry = new Registry();
    const pattern = uniqueName('oversized');
    const handled: string[] = [];
    @Controller()
    class Handler {
      @EventPattern<string>(pattern)
      handle(data: string) {
        handled.push(data);
      }
    }
    // boundedReads is on by default: entries over maxPayloadBytes never leave Redis, the read script moves them.
    fx.apps.push(await startApp([Handler], { connection: fx.redis.url, group: 'g', maxPayloadBytes: 1024, metrics: { registry } }));
    const redis = fx.redis.client();
    for (let i = 0; i < 3; i++) await redis.xadd(pattern, '*', 'data', JSON.stringify('x'.repeat(4096)));
    await redis.xadd(pattern, '*', 'data', JSON.stringify('small'));
    await waitFor(() => handled.length === 1, 'the small entry to be handled');
    await waitFor(async () => (await fx.deadLetters(pattern)).length === 3, 'the three oversized entries dead-lettered');
    expect(await metricValue(registry, 'nestream_messages_dead_lettered_total', { stream: pattern, group: 'g', reason: 'decode' })).toBe(3);
  });
});
