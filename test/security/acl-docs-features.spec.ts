import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamRecordBuilder, RedisStreamsServer, type RetentionEvent } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

/**
 * The security guide's example users for safe retention, delayed emits and idempotency keys (`reminders`, a
 * consumer; `payments`, a producer), created from the guide's ACL SETUSER lines as written: the features work
 * under them. (Taking `+hget` out of the mover's selector leaves the delayed event unmoved: the test times out.)
 */
const fx = useRedis();

/** The arguments of the guide's `ACL SETUSER <name> ...` line. */
function aclLine(name: string): string[] {
  const guide = readFileSync(new URL('../../docs/guide/security.md', import.meta.url), 'utf8');
  const line = guide.split('\n').find(l => l.startsWith(`ACL SETUSER ${name} `));
  if (!line) throw new Error(`no ACL SETUSER ${name} line`);
  return line.split(' ').slice(2);
}

it('the guide\'s reminders and payments users run retention, the mover, keyed, delayed and cancelled emits', async () => {
  const admin = fx.redis.client();
  await admin.call('ACL', 'SETUSER', ...aclLine('reminders'));
  await admin.call('ACL', 'SETUSER', ...aclLine('payments'));
  const as = (user: string) => ({ host: '127.0.0.1', port: fx.redis.port, username: user, password: `${user}-secret` });
  const pattern = `orders.${uniqueName('x')}`;
  const seen: number[] = [];
  const events: RetentionEvent[] = [];
  @Controller()
  class Service {
    @EventPattern<string>(pattern)
    handle(@Payload() e: { n: number }) {
      seen.push(e.n);
    }
  }
  const server = new RedisStreamsServer({ connection: as('reminders'), group: 'g', startId: '0', claim: { intervalMs: 100 }, retention: { maxLen: 10, intervalMs: 100 } });
  server.on('retention', e => events.push(e));
  const app = await startApp([Service], server);
  fx.apps.push(app);
  const client = fx.client({ connection: as('payments') });
  await client.checkPermissions([pattern], { idempotencyKeys: true });
  const first = await lastValueFrom(client.emit<string>(pattern, new RedisStreamRecordBuilder({ n: -1 }).setIdempotencyKey('k').build()));
  const again = await lastValueFrom(client.emit<string>(pattern, new RedisStreamRecordBuilder({ n: -1 }).setIdempotencyKey('k').build()));
  expect(again).toBe(first);
  const later = await lastValueFrom(client.emit<string>(pattern, new RedisStreamRecordBuilder({ n: -3 }).setDelay(3_600_000).build()));
  expect(await client.cancelScheduled(pattern, later)).toBe(true);
  await lastValueFrom(client.emit<string>(pattern, new RedisStreamRecordBuilder({ n: -2 }).setDelay(200).build()));
  for (let i = 0; i < 300; i++) await lastValueFrom(client.emit(pattern, { n: i }));
  await waitFor(() => seen.includes(-2) && seen.length === 302, 'all handled, the delayed one moved in by the reminders user');
  await waitFor(() => events.some(e => e.trimmed > 0), 'retention to trim');
  expect(seen.filter(n => n === -1)).toHaveLength(1);
  expect(seen).not.toContain(-3);
});
