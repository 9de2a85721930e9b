import 'reflect-metadata';
import { BadRequestException, Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { DEAD_LETTER_FIELDS as F, UnrecoverableEventError, type RedisStreamContext } from '@nestream/transport';
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
];

/** Registers every shared case against one transport (`transport()` is called inside each test). */
export function registerSharedCases(name: TransportUnderTest['name'], transport: () => TransportUnderTest): void {
  for (const c of SHARED_CASES) {
    if (c.redisOnly && name === 'bed') it.skip(`${c.name} [needs Redis: ${c.redisOnly}]`, () => undefined);
    else it(c.name, () => c.run(transport()));
  }
}
