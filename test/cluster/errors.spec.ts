import { RedisStreamsClient, RedisUnavailableError } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { unreadBytesAt } from '../harness/socket-queue.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// What a producer is told when Redis Cluster fails under it: the same errors as on one Redis.
const fx = useRedisCluster();

describe('producer errors on a Redis Cluster', () => {
  it('rejects an emit in flight when its master dies with RedisUnavailableError, as on one Redis', async () => {
    const stream = `{${uniqueName('lost')}}.orders`;
    const client: RedisStreamsClient = fx.client();
    await lastValueFrom(client.emit(stream, { n: 0 }));
    let inFlight: Promise<unknown> | undefined;
    await fx.cluster.killMasterOf(stream, {
      whileFrozen: async port => {
        // The XADD reaches the stopped master and waits there for an answer that never comes.
        const before = unreadBytesAt(port);
        inFlight = lastValueFrom(client.emit(stream, { n: 1 })).then(() => undefined, (err: unknown) => err);
        await waitFor(() => unreadBytesAt(port) > before, 'the XADD to reach the stopped master');
      },
    });
    const err = await inFlight;
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toMatch(/the entry may or may not have been added/);
  });
});
