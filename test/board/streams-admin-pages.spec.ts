import { StreamsAdmin } from '@nestream/transport/admin';
import { useRedis } from '../harness/fixture.js';

// StreamsAdmin's newest-first pages (what the board reads): every call reads a bounded number of entries,
// whatever the stream's size or the filter.
const fx = useRedis();
let admin: StreamsAdmin;

beforeEach(async () => {
  const redis = fx.redis.client();
  await redis.flushall();
  for (let i = 1; i <= 30; i++) await redis.xadd('s', `${i}-0`, 'data', JSON.stringify({ n: i, tag: i === 3 ? 'needle' : 'hay' }));
  admin = new StreamsAdmin({ connection: fx.redis.url });
});

afterEach(async () => {
  await admin.close();
});

describe('StreamsAdmin.entries', () => {
  it('stops a filtered page after scanLimit entries, and says where to go on from', async () => {
    const first = await admin.entries('s', { text: 'needle', scanLimit: 10, count: 5 });
    expect(first).toEqual({ entries: [], next: '21-0', scanned: 10 });
    const second = await admin.entries('s', { text: 'needle', scanLimit: 10, count: 5, before: first.next! });
    expect(second).toMatchObject({ entries: [], next: '11-0', scanned: 10 });
    const third = await admin.entries('s', { text: 'needle', scanLimit: 10, count: 5, before: second.next! });
    expect(third.entries.map(e => e.id)).toEqual(['3-0']);
    expect(third.next).toBeNull();
  });

  it('pages exactly: the last page says there is nothing older', async () => {
    const ids: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await admin.entries('s', { count: 7, before });
      ids.push(...page.entries.map(e => e.id));
      if (!page.next) break;
      before = page.next;
    }
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `${30 - i}-0`));
  });
});

describe('StreamsAdmin.pending', () => {
  it('pages a pending list oldest first with XPENDING COUNT', async () => {
    const redis = fx.redis.client();
    await redis.xgroup('CREATE', 's', 'g', '0');
    await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 5, 'STREAMS', 's', '>');
    const first = await admin.pending('s', 'g', { count: 3 });
    expect(first).toMatchObject({ total: 5, next: '3-0', entries: [{ id: '1-0', consumer: 'c1', deliveries: 1 }, { id: '2-0' }, { id: '3-0' }] });
    const rest = await admin.pending('s', 'g', { count: 3, after: first.next! });
    expect(rest.entries.map(e => e.id)).toEqual(['4-0', '5-0']);
    expect(rest.next).toBeNull();
    await expect(admin.pending('s', 'nope')).rejects.toMatchObject({ code: 'unknown-group' });
  });
});
