import { backoffDelay, DEFAULT_SERVER_OPTIONS, InvalidOptionsError, RedisStreamsServer } from '@nestream/transport';

describe('RedisStreamsServer options', () => {
  it('should apply the documented defaults', () => {
    const { options } = new RedisStreamsServer({ group: 'g' });
    expect(options).toMatchObject({
      group: 'g', keyPrefix: '', startId: '$', concurrency: 256, readBatchSize: 256, blockMs: 2000, watchdogMs: 5000,
      shutdownTimeoutMs: 10_000, ack: 'auto', consumerCleanup: false,
      retry: { maxAttempts: 5, maxInterruptions: 10, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 30_000, jitter: 0.1 } },
      claim: { intervalMs: 5000, minIdleMs: 30_000, requestMinIdleMs: 10_000, batchSize: 100 },
    });
    expect(options.consumer).toMatch(/^.+-\d+-[0-9a-f]{6}$/);
    expect(options.deadLetter !== false && options.deadLetter.key('orders')).toBe('orders:dlq');
    expect(options.deadLetter !== false && options.deadLetter.oversizedPrefixBytes).toBe(1024);
    expect(DEFAULT_SERVER_OPTIONS.concurrency).toBe(256);
  });

  it('should bound every entry by default: 1 MiB, 64 levels, replies only under the reply namespace', () => {
    const { options } = new RedisStreamsServer({ group: 'g', keyPrefix: 'acme:' });
    expect(options).toMatchObject({ maxPayloadBytes: 1024 * 1024, maxPayloadDepth: 64, maxPayloadFields: 1000 });
    expect(options.decodeLimits).toMatchObject({ maxBytes: 1024 * 1024, maxDepth: 64, maxFields: 1000, replyPrefix: 'acme:nestream:replies:' });
    const custom = new RedisStreamsServer({ group: 'g', maxPayloadBytes: 4096, maxPayloadDepth: 8, maxPayloadFields: 20 }).options.decodeLimits;
    expect(custom).toMatchObject({ maxBytes: 4096, maxDepth: 8, maxFields: 20, replyPrefix: 'nestream:replies:' });
  });

  it('should suggest maxPayloadFields for a misspelt one', () => {
    expect(() => new RedisStreamsServer({ group: 'g', maxPayloadField: 10 } as never)).toThrow(/maxPayloadFields/);
  });

  it.each([
    [{}, 10_000],
    [{ minIdleMs: 1500, intervalMs: 250 }, 1500], // never above minIdleMs
    [{ intervalMs: 8000 }, 16_000], // never under two claim rounds
    [{ intervalMs: 1000, requestMinIdleMs: 2000 }, 2000],
  ])('should take a request over sooner than an event: claim %j gives requestMinIdleMs %d', (claim, requestMinIdleMs) => {
    expect(new RedisStreamsServer({ group: 'g', claim }).options.claim.requestMinIdleMs).toBe(requestMinIdleMs);
  });

  it('should refuse a requestMinIdleMs shorter than two claim rounds, saying why', () => {
    const make = () => new RedisStreamsServer({ group: 'g', claim: { requestMinIdleMs: 5000 } });
    expect(make).toThrow(InvalidOptionsError);
    expect(make).toThrow('"claim.requestMinIdleMs": is 5000; it must be at least 2 x claim.intervalMs (10000)');
  });

  it('should give each instance its own default consumer name', () => {
    expect(new RedisStreamsServer({ group: 'g' }).options.consumer).not.toBe(new RedisStreamsServer({ group: 'g' }).options.consumer);
  });

  it.each([
    [{ group: '' }, 'group'],
    [{ group: 'g', consumer: '' }, 'consumer'],
    [{ group: 'g', concurrency: 1.5 }, 'concurrency'],
    [{ group: 'g', readBatchSize: 0 }, 'readBatchSize'],
    [{ group: 'g', watchdogMs: -1 }, 'watchdogMs'],
    [{ group: 'g', claim: { minIdleMs: 0 } }, 'claim.minIdleMs'],
    [{ group: 'g', retry: { backoff: { jitter: 2 } } }, 'retry.backoff.jitter'],
    [{ group: 'g', retry: { maxInterruptions: -1 } }, 'retry.maxInterruptions'],
    [{ group: 'g', claim: { requestMinIdleMs: 0 } }, 'claim.requestMinIdleMs'],
    [{ group: 'g', deadLetter: { maxLen: 0 } }, 'deadLetter.maxLen'],
    [{ group: 'g', deadLetter: { oversizedPrefixBytes: -1 } }, 'deadLetter.oversizedPrefixBytes'],
    [{ group: 'g', consumerCleanup: { idleMs: 0 } }, 'consumerCleanup.idleMs'],
    [{ group: 'g', maxPayloadBytes: 0 }, 'maxPayloadBytes'],
    [{ group: 'g', maxPayloadDepth: 0 }, 'maxPayloadDepth'],
    [{ group: 'g', maxPayloadFields: 0 }, 'maxPayloadFields'],
    [{ group: 'g', maxPayloadFields: 2.5 }, 'maxPayloadFields'],
  ])('should reject %j naming "%s"', (options, name) => {
    const make = () => new RedisStreamsServer(options as never);
    expect(make).toThrow(InvalidOptionsError);
    expect(make).toThrow(`"${name}"`);
  });
});

describe('backoffDelay', () => {
  const backoff = { type: 'exponential' as const, delayMs: 100, maxDelayMs: 1000, jitter: 0 };

  it('should double per attempt up to maxDelayMs', () => {
    expect([1, 2, 3, 4, 5, 6].map(a => backoffDelay(backoff, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('should keep a fixed delay fixed', () => {
    expect(backoffDelay({ ...backoff, type: 'fixed' }, 5)).toBe(100);
  });

  it('should only lengthen the delay with jitter', () => {
    const jittered = { ...backoff, jitter: 0.5 };
    expect(backoffDelay(jittered, 1, () => 0)).toBe(100);
    expect(backoffDelay(jittered, 1, () => 0.999)).toBeLessThanOrEqual(150);
    expect(backoffDelay(jittered, 1, () => 0.999)).toBeGreaterThan(100);
  });
});
