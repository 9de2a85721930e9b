import 'reflect-metadata';
import { StreamsAdmin } from '@nestream/transport/admin';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { waitFor } from '../harness/wait.js';
import { rawEntries, refusedWideEntry, wideEntryInOneRead, type WideEntryEnv } from '../harness/wide-entries.js';

// Entries of thousands of fields (issue 19, item 2) on a Redis Cluster, as on one Redis
// (test/conformance/wide-entries.spec.ts): the dead-letter copy, the bounded read and the redrive are scripts
// on the stream's slot (a hash-tagged stream and its dead-letter stream), each bounded to what one XADD from a
// script takes.
const fx = useRedisCluster({ replicasPerMaster: 0 });
const env = (): WideEntryEnv => ({ redis: fx.redis(), connection: fx.connection, apps: fx.apps });

describe('an entry of thousands of fields on a Redis Cluster', () => {
  it.each([
    [5000, false, false],
    [20_000, false, false],
    [5000, true, false],
    [20_000, true, true],
  ])('of %i fields (boundedReads %s, oversized %s) is dead-lettered (decode) with every field kept; the rest of its read is handled', async (fields, boundedReads, oversized) => {
    await wideEntryInOneRead(env(), { fields, boundedReads, oversized });
  });

  it('of 20,000 fields that its handler refuses (maxPayloadFields raised) is dead-lettered whole, once', async () => {
    const { calls } = await refusedWideEntry(env(), 20_000);
    expect(calls()).toBe(1);
  });

  it('is redriven whole with 1,500 fields, and refused (tooWide) with 5,000', async () => {
    const e = env();
    const narrow = await refusedWideEntry(e, 1500);
    const wide = await wideEntryInOneRead(e, { fields: 5000, boundedReads: false });
    const admin = new StreamsAdmin({ connection: fx.connection });
    try {
      expect(await admin.deadLetters.redrive(narrow.stream, { ids: [narrow.deadLetterId] })).toMatchObject({ moved: [{ deadLetterId: narrow.deadLetterId }], tooWide: [] });
      expect(await admin.deadLetters.redrive(wide.stream, { all: true })).toMatchObject({ moved: [], tooWide: [wide.deadLetterId] });
    } finally {
      await admin.close();
    }
    const entries = await rawEntries(e.redis, narrow.stream);
    expect(entries[1][1]).toEqual([...narrow.source, 'redrive.count', '1', 'redrive.from', narrow.deadLetterId]);
    await waitFor(() => narrow.calls() === 2, 'the redriven entry handled again');
    expect(await e.redis.xlen(`${wide.stream}:dlq`)).toBe(1);
  });
});
