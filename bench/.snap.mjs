import v8 from 'node:v8';
import { createConsumer } from './lib/systems.mjs';
const c = await createConsumer({ system: process.argv[2] ?? 'transport', redisUrl: 'redis://127.0.0.1:6379', key: 'snap-test', group: 'g', consumer: 'c', n: 1 }, () => {});
global.gc(); global.gc();
const s = v8.getHeapStatistics();
console.log('used MB', (s.used_heap_size / 2 ** 20).toFixed(1));
const file = v8.writeHeapSnapshot('/tmp/prof/snap.heapsnapshot');
await c.close();
process.exit(0);
