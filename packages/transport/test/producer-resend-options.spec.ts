import type { Cluster, Redis } from 'ioredis';
import { ProducerConnection } from '../src/client/producer-connection.js';
import { resolveClientOptions } from '../src/options/client.js';

// Item 5 of issue 19: the producer never sends an unanswered write again on its own (the conformance test,
// test/conformance/producer-resends.spec.ts, shows what that did); here, that a Cluster gets the same settings.

const nodes = [{ host: '127.0.0.1', port: 1 }];

describe('the producer connection', () => {
  it('does not resend unanswered writes, and fails them when the connection closes', () => {
    const { redis } = new ProducerConnection(resolveClientOptions({ connection: { port: 1, lazyConnect: true } }));
    const { options } = redis as Redis;
    expect(options.autoResendUnfulfilledCommands).toBe(false);
    expect(options.maxRetriesPerRequest).toBe(0);
    redis.disconnect();
  });

  it('on a Redis Cluster: not per node, and not by the Cluster after "Connection is closed."', () => {
    const { redis } = new ProducerConnection(resolveClientOptions({ connection: { type: 'cluster', nodes, options: { lazyConnect: true } } }));
    const { options } = redis as Cluster;
    expect(options.redisOptions?.autoResendUnfulfilledCommands).toBe(false);
    expect(options.redisOptions?.maxRetriesPerRequest).toBe(0);
    expect(options.retryDelayOnFailover).toBe(0);
    redis.disconnect();
  });

  it("leaves the user's explicit ioredis settings alone", () => {
    const { redis } = new ProducerConnection(
      resolveClientOptions({ connection: { type: 'cluster', nodes, options: { lazyConnect: true, retryDelayOnFailover: 200 } } }),
    );
    expect((redis as Cluster).options.retryDelayOnFailover).toBe(200);
    redis.disconnect();
  });
});
