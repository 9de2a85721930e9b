import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { StreamsAdmin } from '@nestream/transport/admin';
import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';
import { rawEntries, readDeadLetter, refusedWideEntry, wideEntryInOneRead, type WideEntryEnv } from '../harness/wide-entries.js';

// Entries of thousands of fields (issue 19, item 2). One XADD from a Lua script takes at most about 8,000
// values, and the dead-letter copy, the bounded read and the redrive are scripts: an entry of 4,000+ fields
// could never be dead-lettered (its move retried forever), and a bounded read that met one failed after its
// XREADGROUP, stranding the rest of its batch in the pending list.
const fx = useRedis();
const env = (): WideEntryEnv => ({ redis: fx.redis.client(), connection: fx.redis.url, apps: fx.apps });

describe('an entry of thousands of fields', () => {
  it.each([
    [5000, false, false],
    [20_000, false, false],
    [5000, true, false],
    [20_000, true, false],
    [5000, true, true],
    [20_000, true, true],
  ])('of %i fields (boundedReads %s, oversized %s) is dead-lettered (decode) with every field kept; the rest of its read is handled', async (fields, boundedReads, oversized) => {
    await wideEntryInOneRead(env(), { fields, boundedReads, oversized });
  });

  it('of 20,000 fields that its handler refuses (maxPayloadFields raised) is dead-lettered whole, once', async () => {
    const { calls } = await refusedWideEntry(env(), 20_000);
    expect(calls()).toBe(1);
  });
});

describe('a bounded read whose dead-letter copy Redis refuses', () => {
  it('hands over the rest of its batch; the oversized entry stays pending, its move reported and tried again', async () => {
    const stream = uniqueName('refused-copy');
    const r = fx.redis.client();
    await r.set(`${stream}:dlq`, 'not a stream'); // every XADD to it: WRONGTYPE
    const handled: number[] = [];
    @Controller()
    class Events {
      @EventPattern(stream)
      handle(data: { n: number }) {
        handled.push(data.n);
      }
    }
    await r.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    for (let n = 0; n < 10; n++) await r.xadd(stream, '*', 'data', JSON.stringify({ n, pad: n === 4 ? 'x'.repeat(5000) : '' }));
    const app = await startApp([Events], { connection: fx.redis.url, group: 'g', boundedReads: true, maxPayloadBytes: 1000, claim: { minIdleMs: 120_000 } });
    fx.apps.push(app);
    const errors: Error[] = [];
    app.server.on('error', err => errors.push(err as Error));
    await waitFor(() => handled.length === 9, 'the nine other entries handled');
    await waitFor(() => errors.length >= 1, 'the refused move reported');
    expect(errors[0].message).toMatch(/WRONGTYPE/);
    expect(await fx.pending(stream)).toBe(1);
    await r.del(`${stream}:dlq`);
    await waitFor(async () => (await fx.pending(stream)) === 0, 'moved once the key is a stream again');
    expect((await fx.deadLetters(stream)).map(letter => letter['dlq.reason'])).toEqual(['decode']);
  });
});

describe('redrive of a wide dead letter', () => {
  it('puts an entry of 1,500 fields back whole, in order (its dead letter kept 500 of them in dlq.fields.rest)', async () => {
    const e = env();
    const { stream, deadLetterId, source, calls } = await refusedWideEntry(e, 1500);
    const admin = new StreamsAdmin({ connection: fx.redis.url });
    try {
      const result = await admin.deadLetters.redrive(stream, { ids: [deadLetterId] });
      expect(result).toMatchObject({ moved: [{ deadLetterId }], tooWide: [], truncated: [] });
    } finally {
      await admin.close();
    }
    const entries = await rawEntries(e.redis, stream);
    expect(entries).toHaveLength(2);
    expect(entries[1][1]).toEqual([...source, 'redrive.count', '1', 'redrive.from', deadLetterId]);
    await waitFor(() => calls() === 2, 'the redriven entry handled (and refused) again');
    await waitFor(async () => (await e.redis.xlen(`${stream}:dlq`)) === 1, 'dead-lettered again');
  });

  it('refuses one of 5,000 fields, more than one XADD from a script takes: tooWide, left where it is', async () => {
    const e = env();
    const { stream, deadLetterId } = await wideEntryInOneRead(e, { fields: 5000, boundedReads: false });
    const admin = new StreamsAdmin({ connection: fx.redis.url });
    try {
      const dry = await admin.deadLetters.redrive(stream, { all: true, dryRun: true });
      expect(dry).toMatchObject({ moved: [], tooWide: [deadLetterId] });
      const result = await admin.deadLetters.redrive(stream, { ids: [deadLetterId] });
      expect(result).toMatchObject({ moved: [], tooWide: [deadLetterId], notFound: [], truncated: [] });
      const all = await admin.deadLetters.redrive(stream, { all: true });
      expect(all).toMatchObject({ moved: [], tooWide: [deadLetterId] });
      // What `nestream dlq get` shows: every field, those of dlq.fields.rest too.
      const shown = await admin.deadLetters.get(stream, deadLetterId);
      expect(Object.keys(shown.fields)).toHaveLength(5000);
      expect(shown.fields.f4999).toBe('4999'.padStart(16, 'x'));
      expect(shown.decodeError).toBe('entry has 5000 fields, more than maxPayloadFields (1000)');
    } finally {
      await admin.close();
    }
    const letters = await rawEntries(e.redis, `${stream}:dlq`);
    expect(letters.map(([id]) => id)).toEqual([deadLetterId]);
    expect(readDeadLetter(letters[0][1]).fields).toHaveLength(10_000);
    expect(await e.redis.xlen(stream)).toBe(3);
  });
});
