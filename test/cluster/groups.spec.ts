import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { StreamsAdmin } from '@nestream/transport/admin';
import { useRedisCluster } from '../harness/cluster-fixture.js';
import { startApp } from '../harness/nest-app.js';
import { uniqueName, waitFor } from '../harness/wait.js';

// Rewind and replay on a Redis Cluster: a partitioned pattern's partitions spread over the masters, each moved
// with XGROUP SETID on its own node.
const fx = useRedisCluster();

describe('StreamsAdmin.resetGroup() and createGroup() on a Redis Cluster', () => {
  it('rewinds every partition of a partitioned pattern, on every master, and creates a group over all of them', async () => {
    const pattern = uniqueName('orders');
    const seen: number[] = [];
    @Controller()
    class Billing {
      @EventPattern<string>(pattern, { partitions: 6 })
      handle(@Payload() e: { n: number }) {
        seen.push(e.n);
      }
    }
    // Partitions are `<pattern>:{i}`: their dead-letter streams share their slots.
    fx.apps.push(await startApp([Billing], { connection: fx.connection, group: 'billing', consumer: 'b1', claim: { intervalMs: 200 } }));
    const client = fx.client();
    await client.emitMany(pattern, Array.from({ length: 30 }, (_, n) => ({ n })));
    await waitFor(() => seen.length === 30, 'the 30 events');
    const masters = new Set(await Promise.all(Array.from({ length: 6 }, (_, i) => fx.cluster.masterOf(`${pattern}:{${i}}`))));
    expect(masters.size).toBeGreaterThan(1);

    const admin = new StreamsAdmin({ connection: fx.connection });
    try {
      await waitFor(async () => {
        for (let i = 0; i < 6; i++) if ((await fx.pending(`${pattern}:{${i}}`, 'billing')) !== 0) return false;
        return true;
      }, 'every partition acked');
      const reset = await admin.resetGroup(pattern, 'billing', { to: 'start' });
      expect(reset.moves).toHaveLength(6);
      expect(reset.moves.reduce((n, m) => n + m.redelivered, 0)).toBe(30);
      await waitFor(() => seen.length === 60, 'all 30 again');
      expect([...seen.slice(30)].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, n) => n));

      const created = await admin.createGroup(pattern, 'audit', { from: 'start', dryRun: true });
      expect(created.moves.reduce((n, m) => n + m.toDeliver, 0)).toBe(30);
    } finally {
      await admin.close();
    }
  });
});
