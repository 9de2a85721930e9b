#!/usr/bin/env node
// node bench/producing-costs.mjs [--rounds 11] [--n 10000] — what an emit costs with an idempotency key and with a
// delay, next to a plain emit, in one process against a redis-server it starts itself (from PATH, free port):
// producer CPU µs per event (process.cpuUsage()), Redis CPU µs per event (INFO cpu) and events/s, fastest and
// median of the rounds. The modes run interleaved in each round, so they see the same machine. For the plain
// path before and after a change, use producer-ab.mjs with --baseline.
import { lastValueFrom } from 'rxjs';
import { RedisStreamRecordBuilder, RedisStreamsClient } from '@nestream/transport';
import { startRedisServer } from './lib/redis-server.mjs';

const argValue = name => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(argValue('--rounds') ?? 11);
const n = Number(argValue('--n') ?? 10_000);
const batch = 1000;
const pad = 'x'.repeat(90);

const modes = {
  'emit()': (i, round) => ({ i, ts: 0, p: pad, round }),
  'emit() with an idempotency key': (i, round) => new RedisStreamRecordBuilder({ i, ts: 0, p: pad }).setIdempotencyKey(`r${round}-${i}`).build(),
  'emit() with setDelay(60 s)': i => new RedisStreamRecordBuilder({ i, ts: 0, p: pad }).setDelay(60_000).build(),
};

const redis = await startRedisServer();
const samples = new Map();
const redisCpu = async admin => {
  const info = await admin.info('cpu');
  const get = k => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)[1]);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
};
try {
  const client = new RedisStreamsClient({ connection: redis.url });
  await client.connect();
  const admin = client.unwrap();
  for (let round = 0; round <= rounds; round++) {
    const entries = Object.entries(modes);
    if (round % 2 === 1) entries.reverse();
    for (const [mode, record] of entries) {
      const key = `costs-${round}`;
      const redis0 = await redisCpu(admin);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i += batch) {
        await Promise.all(Array.from({ length: batch }, (_, j) => lastValueFrom(client.emit(key, record(i + j, round)))));
      }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const redisUs = (await redisCpu(admin)) - redis0;
      await admin.flushall();
      if (round === 0) continue; // warm-up
      if (!samples.has(mode)) samples.set(mode, []);
      samples.get(mode).push({ cpuUs: (cpu.user + cpu.system) / n, redisUs: redisUs / n, evPerSec: (n / ms) * 1000 });
    }
    process.stderr.write(`round ${round}/${rounds}\r`);
  }
  await client.close();
} finally {
  await redis.stop();
}
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(`\n${rounds} rounds of ${n} events per mode (120-byte events, batches of ${batch} concurrent emit()s)\n`);
console.log('| call | producer CPU µs/event: fastest (median) | Redis CPU µs/event: fastest (median) | events/s: fastest (median) |');
console.log('|---|--:|--:|--:|');
for (const [mode, xs] of samples) {
  const f = (key, digits) => `${Math.min(...xs.map(x => x[key])).toFixed(digits)} (${median(xs.map(x => x[key])).toFixed(digits)})`;
  const rate = xs.map(x => x.evPerSec);
  console.log(`| ${mode} | ${f('cpuUs', 2)} | ${f('redisUs', 2)} | ${Math.round(Math.max(...rate)).toLocaleString('en-US')} (${Math.round(median(rate)).toLocaleString('en-US')}) |`);
}
