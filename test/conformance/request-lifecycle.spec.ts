import 'reflect-metadata';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ClientClosedError, NoConsumerGroupError, RedisStreamRecordBuilder, RedisStreamsClient, RedisUnavailableError,
} from '@nestream/transport';
import { firstValueFrom, interval, lastValueFrom, map, take, toArray } from 'rxjs';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { monitorCommands } from '../harness/command-monitor.js';
import { freePort, startRedis } from '../harness/redis-server.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// What Nest's own microservices integration tests check of a client (request-reply, a disconnected client,
// reconnect, shutdown), and requests nobody can answer failing fast. Written for this transport.
const fx = useRedis();

function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: any; ms: number }> {
  const started = Date.now();
  return p.then(
    value => ({ value, ms: Date.now() - started }),
    error => ({ error, ms: Date.now() - started }),
  );
}

function math(prefix: string) {
  @Controller()
  class Math {
    @MessagePattern(`${prefix}.sum`)
    sum(@Payload() numbers: number[]) {
      return numbers.reduce((a, b) => a + b, 0);
    }

    @MessagePattern(`${prefix}.count`)
    count(@Payload() n: number) {
      return interval(5).pipe(take(n), map(i => i + 1));
    }

    @MessagePattern(`${prefix}.never`)
    never() {
      return new Promise(() => undefined);
    }
  }
  return Math;
}

describe('request-reply', () => {
  it('answers with the handler\'s value, and with every value of an Observable in order', async () => {
    const prefix = uniqueName('rr');
    fx.apps.push(await startApp([math(prefix)], { connection: fx.redis.url, group: 'g' }));
    const client = fx.client();
    expect(await lastValueFrom(client.send(`${prefix}.sum`, [1, 2, 3]))).toBe(6);
    expect(await lastValueFrom(client.send(`${prefix}.count`, 4).pipe(toArray()))).toEqual([1, 2, 3, 4]);
  });
});

describe('a request nobody reads', () => {
  it('fails within a second with an error naming the pattern, then at once without writing, and works once a server starts', async () => {
    const prefix = uniqueName('nobody');
    const pattern = `${prefix}.sum`;
    const client = fx.client({ requestTimeoutMs: 30_000 });
    const first = await settle(lastValueFrom(client.send(pattern, [1])));
    expect(first.error).toBeInstanceOf(NoConsumerGroupError);
    expect(first.error.message).toContain(`send("${pattern}"): no consumer group reads stream "${pattern}"`);
    expect(first.error.message).toContain('the request was added to the stream');
    expect(first.ms).toBeLessThan(1000);
    // Known for a second: the next fails before anything is written.
    const second = await settle(lastValueFrom(client.send(pattern, [2])));
    expect(second.error).toBeInstanceOf(NoConsumerGroupError);
    expect(second.error.message).toContain('the request was not sent');
    expect(await fx.redis.client().xlen(pattern)).toBe(1);
    // A server started now is seen within about a second (the "no group" answer expires).
    fx.apps.push(await startApp([math(prefix)], { connection: fx.redis.url, group: 'g' }));
    const started = Date.now();
    await waitFor(async () => (await settle(lastValueFrom(client.send(pattern, [2, 3])))).value === 5, 'answered once the group exists', 5000);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('costs one XINFO GROUPS per pattern, not one per request, once a group is known', async () => {
    const prefix = uniqueName('xinfo');
    const own = await startRedis();
    try {
      fx.apps.push(await startApp([math(prefix)], { connection: own.url, group: 'g' }));
      const client = fx.client({ connection: own.url });
      await client.connect();
      // The consumers run XINFO GROUPS of their own (in scripts too): count only the producer connection's, which
      // MONITOR shows with its address.
      const clients = String(await own.client().call('CLIENT', 'LIST'));
      const producer = /addr=(\S+) .*name=nestream:producer/.exec(clients)![1];
      let xinfoCalls = 0;
      let counted!: () => void;
      const countedSeen = new Promise<void>(resolve => (counted = resolve));
      const monitor = await monitorCommands(own.port, ({ args, source }) => {
        const command = args[0]?.toLowerCase();
        if (source.endsWith(producer) && command === 'xinfo' && args[1]?.toLowerCase() === 'groups') xinfoCalls++;
        if (command === 'echo' && args[1] === 'counted') counted();
      });
      try {
        expect(await lastValueFrom(client.send(`${prefix}.sum`, [1]))).toBe(1);
        await waitFor(() => xinfoCalls === 1, 'the one XINFO GROUPS');
        await Promise.all(Array.from({ length: 50 }, (_, n) => lastValueFrom(client.send(`${prefix}.sum`, [n]))));
        // An ECHO through MONITOR after the requests: everything the producer sent before it has been seen.
        await client.unwrap<import('ioredis').Redis>().echo('counted');
        await countedSeen;
        expect(xinfoCalls).toBe(1);
      } finally {
        monitor.stop();
      }
    } finally {
      await Promise.all(fx.apps.splice(0).map(a => a.close()));
      await own.stop();
    }
  });
});

describe('a disconnected client', () => {
  it('fails send() with the cause\'s code (ECONNREFUSED), as Nest\'s disconnected-client test expects of its clients', async () => {
    const port = await freePort(); // nothing listens there
    const client = fx.client({ connection: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 });
    const { error } = await settle(lastValueFrom(client.send({ cmd: 'none' }, [1, 2, 3])));
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('leaves nothing reconnecting after a failed connect(); the next call starts over', async () => {
    const port = await freePort();
    const client = fx.client({ connection: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 });
    const { error } = await settle(client.connect());
    expect(error).toBeInstanceOf(RedisUnavailableError);
    // Something listens there now: a client still reconnecting in the background would connect to it.
    const sockets: Socket[] = [];
    const listener = createServer(s => sockets.push(s));
    listener.listen(port, '127.0.0.1');
    await once(listener, 'listening');
    try {
      // ioredis retries after at most 2 s (its default retryStrategy): wait past that for a connection that must not come.
      await new Promise(r => setTimeout(r, 2500));
      expect(sockets).toHaveLength(0);
    } finally {
      sockets.forEach(s => s.destroy());
      listener.close();
    }
  });

  it('close() while connect() is in flight rejects that connect() at once with ClientClosedError', async () => {
    const port = await freePort();
    const client = new RedisStreamsClient({ connection: `redis://127.0.0.1:${port}`, connectTimeoutMs: 10_000 });
    const connecting = settle(client.connect());
    await client.close();
    const { error, ms } = await connecting;
    expect(error).toBeInstanceOf(ClientClosedError);
    expect(error.message).toMatch(/^connect\(\) failed: the client was closed while connecting to Redis/);
    expect(ms).toBeLessThan(1000);
  });
});

describe('shutdown', () => {
  it('close() fails every send() in flight at once', async () => {
    const prefix = uniqueName('shutdown');
    fx.apps.push(await startApp([math(prefix)], { connection: fx.redis.url, group: 'g', shutdownTimeoutMs: 100 }));
    const client = fx.client({ requestTimeoutMs: 30_000 });
    expect(await lastValueFrom(client.send(`${prefix}.sum`, [1]))).toBe(1); // the group is known
    const inFlight = [1, 2, 3].map(() => settle(firstValueFrom(client.send(`${prefix}.never`, {}))));
    await waitFor(async () => (await fx.pending(`${prefix}.never`)) === 3, 'the three requests being handled');
    await client.close();
    for (const { error, ms } of await Promise.all(inFlight)) {
      expect(error).toBeInstanceOf(ClientClosedError);
      expect(error.message).toContain('the client was closed before the reply came');
      expect(ms).toBeLessThan(5000);
    }
  });
});

describe('shutdown with Redis down', () => {
  it('close() returns promptly after Redis went away under a client that had sent requests', async () => {
    const own = await startRedis();
    const prefix = uniqueName('gone');
    try {
      fx.apps.push(await startApp([math(prefix)], { connection: own.url, group: 'g' }));
      const client = new RedisStreamsClient({ connection: own.url });
      expect(await lastValueFrom(client.send(`${prefix}.sum`, [1]))).toBe(1);
      await Promise.all(fx.apps.splice(0).map(a => a.close()));
      await own.kill();
      // The reply reader's blocking XREAD is now held by a reconnecting connection.
      await waitFor(() => client.unwrap<{ status: string }>().status !== 'ready', 'the client saw Redis go');
      const { ms } = await settle(client.close());
      expect(ms).toBeLessThan(3000);
    } finally {
      await own.stop();
    }
  });
});

describe('reconnect', () => {
  it('answers requests again after Redis restarts', async () => {
    const own = await startRedis();
    const prefix = uniqueName('restart');
    try {
      fx.apps.push(await startApp([math(prefix)], { connection: own.url, group: 'g', blockMs: 200, watchdogMs: 500 }));
      const client = fx.client({ connection: own.url });
      expect(await lastValueFrom(client.send(`${prefix}.sum`, [1, 1]))).toBe(2);
      await own.kill();
      await own.start();
      const ask = () => lastValueFrom(client.send(`${prefix}.sum`, new RedisStreamRecordBuilder([2, 2]).setTimeout(1000).build()));
      await waitFor(async () => (await settle(ask())).value === 4, 'answered after the restart', 20_000);
    } finally {
      await Promise.all(fx.apps.splice(0).map(a => a.close()));
      await own.stop();
    }
  });
});
