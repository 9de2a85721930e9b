import { useRedis } from '../harness/fixture.js';
import { startApp } from '../harness/nest-app.js';
import { waitFor } from '../harness/wait.js';
import { registerSharedCases } from './shared/cases.js';
import type { SharedClient, TransportUnderTest } from './shared/transport-under-test.js';

// The shared transport-level cases (shared/cases.ts) on a real redis-server; shared-bed.spec.ts runs them on the test kit's bed.
const fx = useRedis();

const redisTransport: TransportUnderTest = {
  name: 'redis',
  async start(controllers, options) {
    fx.apps.push(await startApp(controllers, { connection: fx.redis.url, ...options }));
  },
  client: () => fx.client() as unknown as SharedClient,
  async addEntry(pattern, fields) {
    return (await fx.redis.client().xadd(pattern, '*', ...Object.entries(fields).flat())) as string;
  },
  async passTime() {},
  now: () => Date.now(),
  until: (done, what) => waitFor(done, what),
  deadLetters: pattern => fx.deadLetters(pattern),
  pending: (pattern, group) => fx.pending(pattern, group),
};

describe('shared conformance cases on Redis', () => {
  registerSharedCases('redis', () => redisTransport);
});
