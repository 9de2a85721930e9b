#!/usr/bin/env node
// node bench/producer-ab.mjs --baseline <other build>/dist/esm/index.js — the producer's cost per emit() and
// per emitMany() event, this build against another one, in one process, against a redis-server it starts itself
// (from PATH, on a free port). For changes to the client's hot path: run `npm run build` first.
//
//   node bench/producer-ab.mjs --baseline /tmp/before/packages/transport/dist/esm/index.js
//   node bench/producer-ab.mjs --rounds 21 --n 20000
//   node bench/producer-ab.mjs --build <a build>/dist/esm/index.js --baseline <another>/dist/esm/index.js
//
// Each round sends n events as the bench's burst producer does (batches of 1000 concurrent emit()s, or one
// emitMany() per 1000) with one build, then the other (which goes first alternates), so both see the same machine. The
// table shows producer CPU µs per event (process.cpuUsage(): what the client costs, less moved by other
// processes than wall time) and events/s, as the fastest round and the median.
import { pathToFileURL } from 'node:url';
import { lastValueFrom } from 'rxjs';
import { startRedisServer } from './lib/redis-server.mjs';

const argValue = name => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(argValue('--rounds') ?? 15);
const n = Number(argValue('--n') ?? 20_000);
const batch = 1000;
const baselinePath = argValue('--baseline');

// --build <dist/esm/index.js>: another build in place of this one (e.g. one commit against its parent).
const buildPath = argValue('--build');
const builds = [['this build', await import(buildPath ? pathToFileURL(buildPath).href : '@nestream/transport')]];
if (baselinePath) builds.push(['baseline', await import(pathToFileURL(baselinePath).href)]);

const redis = await startRedisServer();
const pad = 'x'.repeat(90);
const modes = {
  'emit()': async (client, key) => {
    for (let i = 0; i < n; i += batch) {
      await Promise.all(Array.from({ length: batch }, (_, j) => lastValueFrom(client.emit(key, { i: i + j, ts: 0, p: pad }))));
    }
  },
  'emitMany()': async (client, key) => {
    for (let i = 0; i < n; i += batch) await client.emitMany(key, Array.from({ length: batch }, (_, j) => ({ i: i + j, ts: 0, p: pad })));
  },
};
const samples = new Map();
try {
  const clients = await Promise.all(builds.map(async ([, pkg]) => {
    const client = new pkg.RedisStreamsClient({ connection: redis.url });
    await client.connect();
    return client;
  }));
  const admin = clients[0].unwrap();
  for (let round = 0; round <= rounds; round++) {
    for (const [mode, send] of Object.entries(modes)) {
      // Alternate which build goes first: the second one also pays for the first one's garbage.
      const order = round % 2 === 0 ? [...builds.keys()] : [...builds.keys()].reverse();
      for (const b of order) {
        const [name] = builds[b];
        const key = `ab-${b}`;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await send(clients[b], key);
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        await admin.del(key);
        if (round === 0) continue; // warm-up
        const k = `${mode}|${name}`;
        if (!samples.has(k)) samples.set(k, []);
        samples.get(k).push({ cpuUs: (cpu.user + cpu.system) / n, evPerSec: (n / ms) * 1000 });
      }
    }
    process.stderr.write(`round ${round}/${rounds}\r`);
  }
  await Promise.all(clients.map(c => c.close()));
} finally {
  await redis.stop();
}
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(`\n${rounds} rounds of ${n} events each (120-byte events, batches of ${batch})\n`);
console.log('| call | build | producer CPU µs/event: fastest (median) | events/s: fastest (median) |');
console.log('|---|---|--:|--:|');
for (const [k, xs] of samples) {
  const [mode, name] = k.split('|');
  const cpu = xs.map(x => x.cpuUs);
  const rate = xs.map(x => x.evPerSec);
  console.log(`| ${mode} | ${name} | ${Math.min(...cpu).toFixed(2)} (${median(cpu).toFixed(2)}) | ${Math.round(Math.max(...rate)).toLocaleString('en-US')} (${Math.round(median(rate)).toLocaleString('en-US')}) |`);
}
