import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { DEAD_LETTER_FIELDS, RedisStreamContext, UnrecoverableEventError, type DeadLetteredEvent } from '@nestream/transport';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { startChild } from '../harness/child.js';
import { startProxy } from '../harness/freezable-proxy.js';
import { uniqueName, waitFor } from '../harness/wait.js';

const fx = useRedis();
const f = DEAD_LETTER_FIELDS;
const MB = 1024 * 1024;

type BufferEntry = [id: Buffer, fields: Buffer[]];

async function entriesAsBytes(redis: Redis, key: string): Promise<BufferEntry[]> {
  return (await redis.xrangeBuffer(key, '-', '+')) as unknown as BufferEntry[];
}

/** A dead letter split into the source entry's fields (they come first) and the dlq.* fields appended. */
function splitDeadLetter(letter: Buffer[], sourceFieldCount: number): { copied: Buffer[]; dlq: Record<string, string> } {
  const rest = letter.slice(sourceFieldCount).map(b => b.toString());
  const dlq: Record<string, string> = {};
  for (let i = 0; i + 1 < rest.length; i += 2) dlq[rest[i]] = rest[i + 1];
  return { copied: letter.slice(0, sourceFieldCount), dlq };
}

/** Random bytes that are certainly not UTF-8 (0xff never occurs in UTF-8). */
function notUtf8(size: number): Buffer {
  return Buffer.concat([Buffer.from([0xff]), randomBytes(size)]);
}

describe('byte-exact entries', () => {
  it('dead-letters 650 binary entries byte for byte, whether their data is not UTF-8 or their handler gave up', async () => {
    const pattern = uniqueName('binary');
    let calls = 0;
    @Controller()
    class GivesUp {
      @EventPattern(pattern)
      handle() {
        calls++;
        throw new UnrecoverableEventError('cannot use this one');
      }
    }
    fx.apps.push(await startApp([GivesUp], { connection: fx.redis.url, group: 'g' }));
    const r = fx.redis.client();
    const total = 650;
    let valid = 0;
    const pipeline = r.pipeline();
    for (let i = 0; i < total; i++) {
      // Even: data not UTF-8. Odd: JSON data the handler refuses. Both with binary bytes in another field
      // (CR, LF, NUL, 0xff... whatever randomBytes gives), every third one under a binary field name too.
      const data = i % 2 === 0 ? notUtf8(1 + (i % 300)) : Buffer.from(JSON.stringify({ n: i }));
      if (i % 2 === 1) valid++;
      const fields: Buffer[] = [Buffer.from('data'), data, Buffer.from('blob'), randomBytes(1 + (i % 500))];
      if (i % 3 === 0) fields.push(randomBytes(8), randomBytes(64));
      pipeline.xadd(pattern, '*', ...fields);
    }
    await pipeline.exec();
    await waitFor(async () => (await r.xlen(`${pattern}:dlq`)) === total, 'every entry dead-lettered');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'source pending 0');

    const sources = new Map((await entriesAsBytes(r, pattern)).map(([id, fields]) => [id.toString(), fields]));
    const letters = await entriesAsBytes(r, `${pattern}:dlq`);
    expect(letters).toHaveLength(total);
    let identical = 0;
    const reasons = new Map<string, number>();
    for (const [, letter] of letters) {
      const id = splitDeadLetter(letter, 0).dlq[f.id]; // fields come in name/value pairs: dlq.id is found among them
      const source = sources.get(id)!;
      const { copied, dlq } = splitDeadLetter(letter, source.length);
      if (copied.length === source.length && copied.every((b, i) => b.equals(source[i]))) identical++;
      expect(Object.keys(dlq).every(k => k.startsWith('dlq.'))).toBe(true);
      const key = `${dlq[f.reason]}: ${dlq[f.errorMessage]}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    expect(identical).toBe(total);
    expect(Object.fromEntries(reasons)).toEqual({
      'decode: "data" is not valid UTF-8': total - valid,
      'unrecoverable: cannot use this one': valid,
    });
    expect(calls).toBe(valid); // the handler never saw an entry whose data was not UTF-8
  });

  it('hands handlers exactly what producers wrote: multi-byte text, emoji and a U+FFFD written on purpose, never text altered by decoding', async () => {
    const pattern = uniqueName('text');
    const seen: Array<{ data: unknown; headers: Record<string, string> }> = [];
    @Controller()
    class Reader {
      @EventPattern(pattern)
      handle(@Payload() data: unknown, @Ctx() ctx: RedisStreamContext) {
        seen.push({ data, headers: ctx.getHeaders() });
      }
    }
    fx.apps.push(await startApp([Reader], { connection: fx.redis.url, group: 'g' }));
    const r = fx.redis.client();
    const texts = ['héllo wörld', '中文テキスト', '😀👍🏽🇫🇷', 'a U+FFFD on purpose: \uFFFD', '\uFFFD\uFFFD', 'ascii'];
    for (const [i, s] of texts.entries()) {
      await r.xadd(pattern, '*', 'data', JSON.stringify({ i, s }), 'h', JSON.stringify({ note: `${s}` }));
    }
    // Valid JSON around bytes that are not UTF-8 (0xc3 0x28): decoded as text, it would parse into a string
    // with U+FFFD in it and reach the handler altered.
    const altered = Buffer.concat([Buffer.from('{"i":99,"s":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    await r.xadd(pattern, '*', 'data', altered);
    await waitFor(async () => seen.length === texts.length && (await r.xlen(`${pattern}:dlq`)) === 1, 'valid ones handled, the other dead-lettered');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'pending 0');
    const byIndex = [...seen].sort((a, b) => (a.data as { i: number }).i - (b.data as { i: number }).i);
    expect(byIndex).toEqual(texts.map((s, i) => ({ data: { i, s }, headers: { note: s } })));
  });

  it('dead-letters an entry whose data is not UTF-8 with reason decode, byte for byte, without calling the handler', async () => {
    const pattern = uniqueName('latin1');
    let calls = 0;
    @Controller()
    class Never {
      @EventPattern(pattern)
      handle() {
        calls++;
      }
    }
    fx.apps.push(await startApp([Never], { connection: fx.redis.url, group: 'g' }));
    const r = fx.redis.client();
    // Latin-1 text, as a producer in another language might write it: "café" with é as the single byte 0xe9.
    const data = Buffer.from('"caf\xe9"', 'latin1');
    const fields = [Buffer.from('data'), data, Buffer.from('cid'), Buffer.from('c-1'), Buffer.from('h'), Buffer.from('{"k":"v"}')];
    const id = (await r.xadd(pattern, '*', ...fields))!;
    await waitFor(async () => (await r.xlen(`${pattern}:dlq`)) === 1, 'a dead letter');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'pending 0');
    const [[, letter]] = await entriesAsBytes(r, `${pattern}:dlq`);
    const { copied, dlq } = splitDeadLetter(letter, fields.length);
    expect(copied.map(b => b.toString('hex'))).toEqual(fields.map(b => b.toString('hex')));
    expect(dlq).toMatchObject({
      [f.id]: id, [f.reason]: 'decode', [f.errorName]: 'DecodeError', [f.errorMessage]: '"data" is not valid UTF-8', [f.attempts]: '1',
    });
    expect(calls).toBe(0);
  });
});

describe('memory bounded by maxPayloadBytes', () => {
  it('keeps a consumer with the default options under 300 MB of RSS: 100 entries of 5 MB over the default 1 MiB limit, each dead-lettered as a 1 KB prefix', async () => {
    const pattern = uniqueName('huge');
    const r = fx.redis.client();
    const big = 5 * MB;
    const data = JSON.stringify({ n: -1, pad: 'x'.repeat(big) }); // valid JSON: only its size is wrong
    const add = async (n: number) => {
      for (let i = 0; i < n; i += 10) {
        const p = r.pipeline();
        for (let j = i; j < Math.min(n, i + 10); j++) p.xadd(pattern, '*', 'data', data, 'cid', `big-${j}`);
        await p.exec();
      }
    };
    // Half a backlog waiting before the consumer starts, half sent while it waits for entries, small ones between.
    await r.xgroup('CREATE', pattern, 'g', '0', 'MKSTREAM');
    await add(50);
    for (let n = 0; n < 10; n++) await r.xadd(pattern, '*', 'data', JSON.stringify({ n }));
    // Default options (issue 19): boundedReads is on and maxPayloadBytes is 1 MiB unless told otherwise.
    const child = await startChild('payload-consumer.mjs', [fx.redis.url, pattern, JSON.stringify({ group: 'g' })]);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise(resolve => child.once('exit', resolve));
    try {
      await add(50);
      for (let n = 10; n < 20; n++) await r.xadd(pattern, '*', 'data', JSON.stringify({ n }));
      await waitFor(
        async () => (await r.xlen(`${pattern}:dlq`)) === 100 && (await r.scard(`handled:${pattern}`)) === 20,
        'oversized entries dead-lettered, small ones handled',
        120_000,
      );
      await waitFor(async () => (await fx.pending(pattern)) === 0, 'pending 0');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const peakMb = Number(/maxRSS (\d+)/.exec(out)?.[1]) / 1024;
    // 500 MB went through its group; a plain read takes up to readBatchSize of them at once (1.13 GB measured
    // with boundedReads off, the default before issue 19; 2.1 GB before the size guard existed).
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThan(300);

    const letters = await fx.deadLetters(pattern);
    for (const letter of letters) {
      expect(Buffer.byteLength(letter.data)).toBeLessThanOrEqual(1024);
      expect(letter).toMatchObject({
        [f.dataBytes]: String(Buffer.byteLength(data)), [f.dataTruncated]: 'true', [f.reason]: 'decode', [f.errorName]: 'DecodeError',
      });
      expect(letter[f.errorMessage]).toMatch(/larger than maxPayloadBytes \(1048576 bytes\)/);
      expect(data.startsWith(letter.data)).toBe(true);
    }
    // Redis keeps the 500 MB stream, not a second copy of it.
    expect(await r.memory('USAGE', `${pattern}:dlq`)).toBeLessThan(MB);
    const used = Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
    expect(used).toBeLessThan(1.5 * 100 * big); // a full copy would be 2 x
  }, 180_000);

  it('cuts every long value of an oversized entry, before a UTF-8 character rather than through it, and keeps short ones whole', async () => {
    const pattern = uniqueName('cut');
    const handled: unknown[] = [];
    @Controller()
    class Small {
      @EventPattern(pattern)
      handle(@Payload() data: unknown) {
        handled.push(data);
      }
    }
    const r = fx.redis.client();
    await r.xgroup('CREATE', pattern, 'g', '0', 'MKSTREAM');
    // 'é' is 2 bytes: a 9-byte prefix of '"ééééé…' would end inside one.
    const data = `"${'é'.repeat(600)}"`;
    const blob = randomBytes(5000);
    const id = (await r.xadd(pattern, '*', 'data', data, 'cid', 'c-7', 'blob', blob))!;
    await r.xadd(pattern, '*', 'data', '{"ok":true}');
    fx.apps.push(await startApp([Small], {
      connection: fx.redis.url, group: 'g', maxPayloadBytes: 1000, deadLetter: { oversizedPrefixBytes: 9 },
    }));
    await waitFor(async () => handled.length === 1 && (await r.xlen(`${pattern}:dlq`)) === 1, 'the small one handled, the large one dead-lettered');
    const [[, letter]] = await entriesAsBytes(r, `${pattern}:dlq`);
    const { copied, dlq } = splitDeadLetter(letter, 6);
    expect(copied.slice(0, 5).map(b => b.toString())).toEqual(['data', `"${'é'.repeat(4)}`, 'cid', 'c-7', 'blob']);
    // Binary bytes are cut the same way: 9 bytes, or up to 3 fewer where the 10th looks like a continuation byte.
    const kept = copied[5];
    expect(kept.length).toBeGreaterThanOrEqual(6);
    expect(kept.length).toBeLessThanOrEqual(9);
    expect(kept.equals(blob.subarray(0, kept.length))).toBe(true);
    expect(dlq).toMatchObject({
      [f.id]: id, [f.reason]: 'decode', [f.dataBytes]: String(Buffer.byteLength(data)), [f.dataTruncated]: 'true',
      'dlq.blob.bytes': '5000', 'dlq.blob.truncated': 'true',
    });
    expect(dlq).not.toHaveProperty('dlq.cid.bytes');
    expect(handled).toEqual([{ ok: true }]);
  });

  it('only acks an oversized entry with boundedReads and deadLetter: false, and reports it', async () => {
    const pattern = uniqueName('dropbig');
    let calls = 0;
    @Controller()
    class Never {
      @EventPattern(pattern)
      handle() {
        calls++;
      }
    }
    const r = fx.redis.client();
    await r.xgroup('CREATE', pattern, 'g', '0', 'MKSTREAM');
    const id = (await r.xadd(pattern, '*', 'data', JSON.stringify('x'.repeat(2000))))!;
    const app = await startApp([Never], { connection: fx.redis.url, group: 'g', maxPayloadBytes: 1000, boundedReads: true, deadLetter: false });
    fx.apps.push(app);
    const dropped: DeadLetteredEvent[] = [];
    app.server.on('deadLettered', e => dropped.push(e));
    await waitFor(() => dropped.length === 1, 'the drop reported');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'pending 0');
    expect(dropped[0]).toMatchObject({ id, deadLetterStream: false, reason: 'decode', error: { name: 'DecodeError' } });
    expect(await r.exists(`${pattern}:dlq`)).toBe(0);
    expect(calls).toBe(0);
  });
});

describe('an oversized entry the read script moved', () => {
  it('is reported when the consumer stops before handing it on (the move happened in Redis; nobody else will see it)', async () => {
    const pattern = uniqueName('movedatstop');
    const proxy = await startProxy(fx.redis.port);
    let reachedSmall!: () => void;
    const smallHandled = new Promise<void>(resolve => (reachedSmall = resolve));
    @Controller()
    class First {
      @EventPattern<string>(pattern)
      handle() {
        // From here on, what Redis answers on the commands connection waits in the proxy: the read script that
        // follows this entry runs in Redis (moving the oversized entry), and its reply arrives after the stop.
        proxy.holdReplies('nestream:commands');
        reachedSmall();
      }
    }
    try {
      const r = fx.redis.client();
      const app = await startApp([First], { connection: proxy.url, group: 'g', maxPayloadBytes: 1000 });
      fx.apps.push(app);
      const reported: DeadLetteredEvent[] = [];
      app.server.on('deadLettered', e => reported.push(e));
      await waitFor(async () => {
        const clients = String(await r.call('CLIENT', 'LIST')).split('\n');
        return clients.some(c => / name=nestream:reader /.test(c) && / cmd=xreadgroup/.test(c) && / flags=b/.test(c));
      }, 'the reader blocked in XREADGROUP');
      // One transaction: the blocked read (COUNT 1) takes the small entry, the next read (the script) the large one.
      const [, [, bigId]] = (await r.multi().xadd(pattern, '*', 'data', '{"n":1}').xadd(pattern, '*', 'data', JSON.stringify('x'.repeat(2000))).exec())!;
      await smallHandled;
      await waitFor(async () => (await r.xlen(`${pattern}:dlq`)) === 1, 'the read script moved the large entry');
      // The dispatcher stops at once (synchronously in close()); then the script's reply comes in.
      const closing = app.server.close();
      proxy.releaseReplies('nestream:commands');
      await closing;
      expect(reported).toMatchObject([{ id: bigId, reason: 'decode', deadLetterStream: `${pattern}:dlq`, error: { name: 'DecodeError' } }]);
      expect(await fx.pending(pattern)).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});

describe('dead-letter move', () => {
  it('only acks an entry deleted before its dead-letter move: no dead letter made of what was read', async () => {
    const pattern = uniqueName('vanish');
    const r = fx.redis.client();
    @Controller()
    class DeletesThenFails {
      @EventPattern(pattern)
      async handle(@Payload() _data: unknown, @Ctx() ctx: RedisStreamContext) {
        await r.xdel(pattern, ctx.getMessageId());
        throw new UnrecoverableEventError('and gives up');
      }
    }
    const app = await startApp([DeletesThenFails], { connection: fx.redis.url, group: 'g' });
    fx.apps.push(app);
    const events: string[] = [];
    app.server.on('deleted', () => events.push('deleted'));
    app.server.on('deadLettered', () => events.push('deadLettered'));
    await fx.client().emitMany(pattern, [{ n: 1 }]);
    await waitFor(() => events.length === 1, 'the outcome reported');
    await waitFor(async () => (await fx.pending(pattern)) === 0, 'its pending reference acked');
    expect(events).toEqual(['deleted']);
    expect(await r.xlen(pattern)).toBe(0);
    expect(await r.exists(`${pattern}:dlq`)).toBe(0);
  });
});
