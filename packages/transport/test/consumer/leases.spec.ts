import type { Redis } from 'ioredis';
import { Leases } from '../../src/consumer/leases.js';
import { streamEntry } from '../../src/consumer/stream-entry.js';

// Holding, releasing and the local half of confirm() need no Redis; renewals are tested against a real
// redis-server in test/conformance.
const noRedis = undefined as unknown as Redis;

describe('Leases', () => {
  it('should hold and release entries, reusing slab indexes', () => {
    const leases = new Leases(noRedis, 'g', 'c', 30_000);
    const a = streamEntry('s', '1-0', [], 1);
    const b = streamEntry('s', '2-0', [], 1);
    leases.hold(a, 10);
    leases.hold(b, 10);
    expect(leases.size).toBe(2);
    expect([...leases.heldIds('s')]).toEqual(['1-0', '2-0']);
    leases.release(a);
    leases.release(a); // twice is harmless
    expect(leases.size).toBe(1);
    const c = streamEntry('t', '3-0', [], 1);
    leases.hold(c, 10);
    expect(c.leaseIndex).toBe(0);
    expect([...leases.heldIds('s')]).toEqual(['2-0']);
  });

  it('should confirm a recently touched lease without asking Redis, and refuse a released one', async () => {
    const leases = new Leases(noRedis, 'g', 'c', 30_000);
    const a = streamEntry('s', '1-0', [], 1);
    leases.hold(a);
    await expect(leases.confirm(a)).resolves.toBe(true);
    leases.release(a);
    await expect(leases.confirm(a)).resolves.toBe(false);
  });

  it('should compute a min-idle just under the time since the last touch', () => {
    const leases = new Leases(noRedis, 'g', 'c', 30_000);
    const a = streamEntry('s', '1-0', [], 1);
    leases.hold(a, 1000);
    expect(leases.minIdleFor(a, 6000)).toBe(4900);
    expect(leases.minIdleFor(a, 1050)).toBe(0);
  });

  it("should give a request's stream its shorter min-idle, and confirm its lease only within it", async () => {
    const leases = new Leases(noRedis, 'g', 'c', 30_000, { streams: new Set(['req']), minIdleMs: 10_000 });
    expect(leases.minIdleOf('req')).toBe(10_000);
    expect(leases.minIdleOf('events')).toBe(30_000);
    const event = streamEntry('events', '1-0', [], 1);
    leases.hold(event, Date.now() - 15_000);
    // 15 s since the last touch: within an event's min-idle, so no need to ask Redis (there is none here).
    await expect(leases.confirm(event)).resolves.toBe(true);
    const request = streamEntry('req', '1-0', [], 1);
    leases.hold(request, Date.now() - 15_000);
    await expect(leases.confirm(request)).rejects.toThrow(); // past a request's min-idle: Redis must confirm
  });
});
