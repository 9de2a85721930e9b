import 'reflect-metadata';
import { BadRequestException, Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import {
  DEAD_LETTER_FIELDS as F,
  partitionOf,
  RedisStreamRecordBuilder,
  UnrecoverableEventError,
  type RedisStreamBatchContext,
  type RedisStreamContext,
} from '@nestream/transport';
import { uniqueName } from '../../harness/wait.js';
import type { TransportUnderTest } from './transport-under-test.js';

/** A transport-level case: `redisOnly` says what it needs of Redis itself (the bed skips it, saying why). */
export interface SharedCase {
  name: string;
  redisOnly?: string;
  run(t: TransportUnderTest): Promise<void>;
}

const retry = { maxAttempts: 3, backoff: { type: 'fixed' as const, delayMs: 100, jitter: 0 } };

export const SHARED_CASES: SharedCase[] = [
  {
    name: 'acks a handled event: called once, nothing pending, no dead letter',
    async run(t) {
      const pattern = uniqueName('ack');
      const calls: unknown[] = [];
      @Controller()
      class Ok {
        @EventPattern(pattern)
        handle(@Payload() data: unknown) {
          calls.push(data);
        }
      }
      await t.start([Ok], { group: 'g', retry });
      await lastValueFrom(t.client().emit(pattern, { id: 1 }));
      await t.until(async () => calls.length === 1 && (await t.pending(pattern, 'g')) === 0, 'the event handled and acked');
      expect(calls).toEqual([{ id: 1 }]);
      expect(await t.deadLetters(pattern)).toEqual([]);
    },
  },
  {
    name: 'retries a failing event after its backoff with a growing delivery count, then acks it',
    async run(t) {
      const pattern = uniqueName('retry');
      const counts: number[] = [];
      @Controller()
      class Flaky {
        @EventPattern(pattern)
        handle(@Payload() _d: unknown, @Ctx() ctx: RedisStreamContext) {
          counts.push(ctx.getDeliveryCount());
          if (counts.length < 3) throw new Error(`fail #${counts.length}`);
        }
      }
      await t.start([Flaky], { group: 'g', retry });
      await lastValueFrom(t.client().emit(pattern, { id: 1 }));
      await t.until(async () => counts.length === 3 && (await t.pending(pattern, 'g')) === 0, 'three attempts, then acked');
      expect(counts).toEqual([1, 2, 3]);
      expect(await t.deadLetters(pattern)).toEqual([]);
    },
  },
  {
    name: 'dead-letters after maxAttempts with reason max-attempts, the real error and every dlq field',
    async run(t) {
      const pattern = uniqueName('poison');
      let calls = 0;
      @Controller()
      class Poison {
        @EventPattern(pattern)
        handle() {
          calls++;
          throw new TypeError('price must be a number');
        }
      }
      await t.start([Poison], { group: 'g', consumer: 'c1', retry });
      const [id] = await t.client().emitMany(pattern, [{ price: 'x' }]);
      await t.until(async () => (await t.deadLetters(pattern)).length === 1, 'a dead letter');
      const [dead] = await t.deadLetters(pattern);
      expect(dead).toMatchObject({
        data: JSON.stringify({ price: 'x' }),
        [F.stream]: expect.stringContaining(pattern), [F.id]: id, [F.group]: 'g', [F.consumer]: 'c1', [F.attempts]: '3',
        [F.reason]: 'max-attempts', [F.errorName]: 'TypeError', [F.errorMessage]: 'price must be a number',
      });
      expect(new Date(dead[F.failedAt]).toISOString()).toBe(dead[F.failedAt]);
      expect(calls).toBe(3);
      expect(await t.pending(pattern, 'g')).toBe(0);
    },
  },
  {
    name: 'dead-letters an UnrecoverableEventError after one attempt (reason unrecoverable)',
    async run(t) {
      const pattern = uniqueName('unrecoverable');
      let calls = 0;
      @Controller()
      class Refuses {
        @EventPattern(pattern)
        handle() {
          calls++;
          throw new UnrecoverableEventError('no such customer');
        }
      }
      await t.start([Refuses], { group: 'g', retry });
      await lastValueFrom(t.client().emit(pattern, {}));
      await t.until(async () => (await t.deadLetters(pattern)).length === 1, 'a dead letter');
      expect(await t.deadLetters(pattern)).toMatchObject([{ [F.reason]: 'unrecoverable', [F.attempts]: '1', [F.errorMessage]: 'no such customer' }]);
      expect(calls).toBe(1);
    },
  },
  {
    name: 'dead-letters a validation failure (BadRequestException) after one attempt (reason validation)',
    async run(t) {
      const pattern = uniqueName('validation');
      @Controller()
      class Strict {
        @EventPattern(pattern)
        handle() {
          throw new BadRequestException('amount must be positive');
        }
      }
      await t.start([Strict], { group: 'g', retry });
      await lastValueFrom(t.client().emit(pattern, { amount: -1 }));
      await t.until(async () => (await t.deadLetters(pattern)).length === 1, 'a dead letter');
      expect(await t.deadLetters(pattern)).toMatchObject([{ [F.reason]: 'validation', [F.attempts]: '1', [F.errorName]: 'BadRequestException' }]);
    },
  },
  {
    name: 'request-reply: a value, an RpcException as the answer, a plain error as "Internal server error" and a dead letter',
    async run(t) {
      const [sum, refuse, broken] = [uniqueName('sum'), uniqueName('refuse'), uniqueName('broken')];
      @Controller()
      class Maths {
        @MessagePattern(sum)
        sum(@Payload() n: number[]) {
          return n.reduce((a, b) => a + b, 0);
        }
        @MessagePattern(refuse)
        refuse() {
          throw new RpcException({ code: 'E_NEGATIVE', message: 'negative numbers' });
        }
        @MessagePattern(broken)
        broken() {
          throw new Error('database down');
        }
      }
      await t.start([Maths], { group: 'g', retry });
      const client = t.client();
      await expect(lastValueFrom(client.send(sum, [1, 2, 3]))).resolves.toBe(6);
      await expect(lastValueFrom(client.send(refuse, {}))).rejects.toEqual({ code: 'E_NEGATIVE', message: 'negative numbers' });
      await expect(lastValueFrom(client.send(broken, {}))).rejects.toMatchObject({ status: 'error', message: 'Internal server error' });
      await t.until(async () => (await t.deadLetters(broken)).length === 1, 'the failed request dead-lettered');
      expect(await t.deadLetters(broken)).toMatchObject([{ [F.reason]: 'max-attempts', [F.attempts]: '1', [F.errorMessage]: 'database down' }]);
      expect(await t.deadLetters(refuse)).toEqual([]);
    },
  },
  {
    name: 'a handler over handlerTimeoutMs fails its attempt, and the retry runs',
    async run(t) {
      const pattern = uniqueName('timeout');
      let calls = 0;
      let release!: () => void;
      const hung = new Promise<void>(r => (release = r));
      @Controller()
      class Slow {
        @EventPattern(pattern)
        handle() {
          calls++;
          if (calls === 1) return hung;
        }
      }
      await t.start([Slow], { group: 'g', retry, handlerTimeoutMs: 300 });
      await lastValueFrom(t.client().emit(pattern, {}));
      await t.until(() => calls === 1, 'the first call');
      await t.passTime(300);
      await t.until(async () => calls === 2 && (await t.pending(pattern, 'g')) === 0, 'the retry handled and acked');
      release();
      expect(await t.deadLetters(pattern)).toEqual([]);
    },
  },
  {
    name: 'dead-letters an undecodable entry without calling the handler (reason decode), and handles the good one after it',
    async run(t) {
      const pattern = uniqueName('decode');
      const seen: unknown[] = [];
      @Controller()
      class Any {
        @EventPattern(pattern)
        handle(@Payload() d: unknown) {
          seen.push(d);
        }
      }
      await t.start([Any], { group: 'g', retry });
      const bad = await t.addEntry(pattern, { data: '{not json' });
      await t.addEntry(pattern, { data: '{"ok":true}' });
      await t.until(async () => seen.length === 1 && (await t.deadLetters(pattern)).length === 1, 'one handled, one dead letter');
      expect(seen).toEqual([{ ok: true }]);
      expect(await t.deadLetters(pattern)).toMatchObject([{ data: '{not json', [F.id]: bad, [F.reason]: 'decode', [F.attempts]: '1', [F.errorName]: 'DecodeError' }]);
    },
  },
  {
    name: 'an oversized entry\'s dead letter keeps a prefix of each long value (dlq.data.truncated)',
    redisOnly: 'the dead-letter script copies a prefix inside Redis; the bed copies the whole entry',
    async run(t) {
      const pattern = uniqueName('oversized');
      @Controller()
      class Any {
        @EventPattern(pattern)
        handle() {}
      }
      await t.start([Any], { group: 'g', retry, maxPayloadBytes: 2000, deadLetter: { oversizedPrefixBytes: 100 } });
      await t.addEntry(pattern, { data: JSON.stringify('x'.repeat(5000)) });
      await t.until(async () => (await t.deadLetters(pattern)).length === 1, 'a dead letter');
      expect(await t.deadLetters(pattern)).toMatchObject([{ [F.reason]: 'decode', [F.dataTruncated]: 'true' }]);
    },
  },
  {
    name: 'manual ack: ack, retry with a delay, dead letter (reason manual), and an unsettled entry retried until max-attempts',
    async run(t) {
      const pattern = uniqueName('manual');
      const calls = new Map<string, number>();
      @Controller()
      class Manual {
        @EventPattern(pattern)
        handle(@Payload() e: { kind: string }, @Ctx() ctx: RedisStreamContext) {
          calls.set(e.kind, (calls.get(e.kind) ?? 0) + 1);
          if (e.kind === 'ack') ctx.ack();
          else if (e.kind === 'retry') ctx.getDeliveryCount() === 1 ? ctx.retry({ delayMs: 200 }) : ctx.ack();
          else if (e.kind === 'dead') ctx.deadLetter('bad customer');
        }
      }
      await t.start([Manual], { group: 'g', ack: 'manual', retry });
      await t.client().emitMany(pattern, [{ kind: 'ack' }, { kind: 'retry' }, { kind: 'dead' }, { kind: 'never' }]);
      await t.until(async () => (await t.deadLetters(pattern)).length === 2 && (await t.pending(pattern, 'g')) === 0, 'everything settled');
      expect(Object.fromEntries(calls)).toEqual({ ack: 1, retry: 2, dead: 1, never: 3 });
      expect((await t.deadLetters(pattern)).map(d => [d[F.reason], d[F.errorMessage]])).toEqual([
        ['manual', 'bad customer'],
        ['max-attempts', 'handler returned without settling the entry (ack: manual)'],
      ]);
    },
  },
  {
    name: 'ordered: one entry at a time in stream order, a failing one retried before the next',
    async run(t) {
      const pattern = uniqueName('ordered');
      const seen: string[] = [];
      @Controller()
      class InOrder {
        @EventPattern(pattern, { ordered: true })
        handle(@Payload() e: { n: number }, @Ctx() ctx: RedisStreamContext) {
          seen.push(`${e.n}#${ctx.getDeliveryCount()}`);
          if (e.n === 2 && ctx.getDeliveryCount() < 3) throw new Error('later');
        }
      }
      await t.start([InOrder], { group: 'g', retry });
      await t.client().emitMany(pattern, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      await t.until(async () => seen.length === 5 && (await t.pending(pattern, 'g')) === 0, 'five attempts, all acked');
      expect(seen).toEqual(['1#1', '2#1', '2#2', '2#3', '3#1']);
    },
  },
  {
    name: 'batch: every entry handled, an entry marked with ctx.fail() retried in a later call, nothing dead-lettered',
    async run(t) {
      const pattern = uniqueName('batch');
      const calls: number[][] = [];
      @Controller()
      class Batch {
        @EventPattern(pattern, { batch: true })
        handle(@Payload() items: Array<{ n: number }>, @Ctx() ctx: RedisStreamBatchContext) {
          calls.push(items.map(i => i.n));
          items.forEach((item, i) => {
            if (item.n === 2 && ctx.getEntries()[i].deliveryCount === 1) ctx.fail(i, new Error('again'));
          });
        }
      }
      await t.start([Batch], { group: 'g', retry });
      await t.client().emitMany(pattern, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      await t.until(async () => calls.flat().length === 4 && (await t.pending(pattern, 'g')) === 0, 'three entries handled, one twice');
      expect(calls.flat().sort()).toEqual([1, 2, 2, 3]);
      expect(calls.at(-1)).toEqual([2]);
      expect(await t.deadLetters(pattern)).toEqual([]);
    },
  },
  {
    name: 'partitions: each partition key\'s events reach the handler from partitionOf(key, n), in the order emitted',
    async run(t) {
      const pattern = uniqueName('partitioned');
      const seen: Array<{ key: string; n: number; partition: number | undefined }> = [];
      @Controller()
      class Parts {
        @EventPattern(pattern, { partitions: 4 })
        handle(@Payload() e: { key: string; n: number }, @Ctx() ctx: RedisStreamContext) {
          seen.push({ ...e, partition: ctx.getPartition() });
        }
      }
      await t.start([Parts], { group: 'g', retry });
      const client = t.client();
      const events = ['a', 'b', 'c', 'a', 'b', 'a'].map((key, n) => new RedisStreamRecordBuilder({ key, n }).setPartitionKey(key).build());
      for (const e of events) await lastValueFrom(client.emit(pattern, e));
      await t.until(() => seen.length === 6, 'six events handled');
      for (const key of ['a', 'b', 'c']) {
        const mine = seen.filter(s => s.key === key);
        expect(new Set(mine.map(s => s.partition))).toEqual(new Set([partitionOf(key, 4)]));
        expect(mine.map(s => s.n)).toEqual([...mine.map(s => s.n)].sort((x, y) => x - y));
      }
    },
  },
  {
    name: 'a request is not retried past its caller\'s deadline: dead-lettered with reason deadline',
    async run(t) {
      const pattern = uniqueName('deadline');
      let calls = 0;
      @Controller()
      class Quotes {
        @MessagePattern(pattern, { retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs: 10_000, jitter: 0 } } })
        quote(@Payload() _q: unknown) {
          calls++;
          throw new Error('pricing down');
        }
      }
      await t.start([Quotes], { group: 'g', retry });
      const request = new RedisStreamRecordBuilder({}).setTimeout(2000).build();
      await expect(lastValueFrom(t.client().send(pattern, request))).rejects.toMatchObject({ message: 'Internal server error' });
      await t.until(async () => (await t.deadLetters(pattern)).length === 1, 'the request dead-lettered');
      expect(await t.deadLetters(pattern)).toMatchObject([{ [F.reason]: 'deadline', [F.attempts]: '1', [F.errorMessage]: 'pricing down' }]);
      expect(calls).toBe(1);
    },
  },
  {
    name: 'a rate-limited handler runs at most max times per perMs after its first burst, every entry once',
    async run(t) {
      const pattern = uniqueName('limited');
      const at: number[] = [];
      const limit = { max: 5, perMs: 500 };
      @Controller()
      class Limited {
        @EventPattern(pattern, { rateLimit: limit })
        handle() {
          at.push(t.now());
        }
      }
      await t.start([Limited], { group: 'g' });
      await t.client().emitMany(pattern, Array.from({ length: 15 }, (_, n) => ({ n })));
      await t.until(async () => at.length === 15 && (await t.pending(pattern, 'g')) === 0, 'all 15 handled and acked');
      // A bucket of 5 refilled at one per 100 ms: the k-th run (0-based) at least (k + 1 - 5) x 100 ms after the first.
      const early = at.map((time, k) => ({ k, gap: time - at[0] })).filter(({ k, gap }) => gap < (k + 1 - limit.max) * 100 - 25);
      expect(early).toEqual([]);
      expect(at[14] - at[0]).toBeGreaterThanOrEqual(950);
    },
  },
];

/** Registers every shared case against one transport (`transport()` is called inside each test). */
export function registerSharedCases(name: TransportUnderTest['name'], transport: () => TransportUnderTest): void {
  for (const c of SHARED_CASES) {
    if (c.redisOnly && name === 'bed') it.skip(`${c.name} [needs Redis: ${c.redisOnly}]`, () => undefined);
    else it(c.name, () => c.run(transport()));
  }
}
