#!/usr/bin/env node
// The partitioned-stream scenario (issue 11): events routed by key over 1, 2, 4, 8 partitions of one pattern on a
// local Redis Cluster this script starts itself (3 masters), consumed by several consumer processes of one group,
// the transport with `{ partitions, ordered: true }` next to raw ioredis on the same partition streams.
// `npm run bench -- --only partitioned` runs it through bench/run.mjs; `node bench/partitioned.mjs --help` alone.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster } from 'ioredis';
import { RedisStreamRecordBuilder, RedisStreamsClient, partitionOf } from '@nestream/transport';
import { startRedisCluster } from './lib/redis-cluster.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const CONSUMER = join(BENCH_DIR, 'partitioned-consumer.mjs');

export const PARTITIONED_DEFAULTS = { n: 20_000, partitions: [1, 2, 4, 8], consumers: 2, keys: 1000, repeat: 3, systems: ['raw', 'transport', 'transport-ackbatch'], batch: 1000, handlerMs: 0 };
// The `transport-ackbatch` system: the transport with `{ partitions, ordered: true, ackBatch }`.
const ACK_BATCH = 32;
export const PARTITIONED_SYSTEMS = ['raw', 'transport', 'transport-ackbatch'];
// A run ends when every event was handled, or when nothing new was handled for this long.
const STALL_MS = 20_000;

const HELP = `Usage: node bench/partitioned.mjs [options]

  --n N              events per run (default ${PARTITIONED_DEFAULTS.n})
  --partitions LIST  partition counts (default ${PARTITIONED_DEFAULTS.partitions.join(',')})
  --consumers C      consumer processes of the group (default ${PARTITIONED_DEFAULTS.consumers})
  --keys K           distinct partition keys (default ${PARTITIONED_DEFAULTS.keys})
  --repeat R         runs of each system per partition count, interleaved; the median is reported (default ${PARTITIONED_DEFAULTS.repeat})
  --systems LIST     raw, transport, transport-ackbatch (the transport with ackBatch ${ACK_BATCH}) (default all three)
  --handler-ms MS    each handler call waits MS ms (a timer, like I/O) before it returns (default 0: empty handler);
                     raw waits the same per entry, one entry at a time per partition read
  --out DIR          where the JSON and Markdown results go (default bench/results)`;

export function parsePartitionedArgs(argv) {
  const o = { ...PARTITIONED_DEFAULTS };
  const list = v => v.split(',').map(s => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].replace(/^--/, '').split('=');
    const value = () => inline ?? argv[++i];
    if (name === 'help') o.help = true;
    else if (name === 'n' || name === 'consumers' || name === 'keys' || name === 'repeat') o[name] = Number(value());
    else if (name === 'partitions') o.partitions = list(value()).map(Number);
    else if (name === 'systems') o.systems = list(value());
    else if (name === 'handler-ms') o.handlerMs = Number(value());
    else if (name === 'out') o.outDir = value();
    else throw new Error(`unknown option ${argv[i]}\n\n${HELP}`);
  }
  for (const k of ['n', 'consumers', 'keys', 'repeat']) if (!(Number.isInteger(o[k]) && o[k] > 0)) throw new Error(`--${k} must be a positive integer`);
  if (!(Number.isFinite(o.handlerMs) && o.handlerMs >= 0)) throw new Error('--handler-ms must be 0 or more');
  for (const s of o.systems) if (!PARTITIONED_SYSTEMS.includes(s)) throw new Error(`unknown system ${s} (${PARTITIONED_SYSTEMS.join(', ')})`);
  return o;
}

/** Runs the scenario; returns the median run of each (partitions, system) with its repeats. */
export async function runPartitioned(o, log = line => process.stderr.write(`${line}\n`)) {
  const runId = randomBytes(3).toString('hex');
  const cluster = await startRedisCluster();
  const redis = new Cluster(cluster.nodes);
  const results = [];
  try {
    for (const partitions of o.partitions) {
      const runs = new Map(o.systems.map(s => [s, []]));
      for (let rep = 0; rep < o.repeat; rep++) {
        for (const system of o.systems) {
          const pattern = `nsbench-${runId}-p${partitions}-${system}-${rep}`;
          const r = await runOne({ ...o, system, partitions, pattern, nodes: cluster.nodes }, redis);
          await deleteKeysOf(redis, pattern);
          runs.get(system).push(r);
          log(`partitions ${partitions}${o.handlerMs ? ` handler ${o.handlerMs} ms` : ''} ${system.padEnd(18)} run ${rep + 1}/${o.repeat}: ${Math.round(r.evPerSec)} ev/s (producer ${Math.round(r.producerEvPerSec)}), lost ${r.lost}, dup ${r.duplicates}, order violations ${r.orderViolations}, pending ${r.pending}, load ${r.load.toFixed(1)}`);
        }
      }
      for (const [system, list] of runs) results.push(median(system, partitions, list));
    }
  } finally {
    redis.disconnect();
    await cluster.stop();
  }
  for (const r of results) {
    const raw = results.find(x => x.system === 'raw' && x.partitions === r.partitions);
    r.xRaw = raw ? r.evPerSec / raw.evPerSec : null;
  }
  return { runId, startedAt: new Date().toISOString(), options: o, results };
}

async function runOne(spec, redis) {
  const consumers = [];
  for (let c = 0; c < spec.consumers; c++) {
    const cfg = { system: spec.system, nodes: spec.nodes, pattern: spec.pattern, partitions: spec.partitions, ordered: true, group: 'g', consumer: `c${c}`, handlerMs: spec.handlerMs, ...(spec.system === 'transport-ackbatch' ? { ackBatch: ACK_BATCH } : {}) };
    consumers.push(await startConsumer(cfg));
  }
  try {
    if (spec.system !== 'raw') await partitionsSharedOut(redis, spec);
    const load = loadavg()[0];
    const started = performance.timeOrigin + performance.now();
    await (spec.system === 'raw' ? produceRaw(redis, spec) : produceTransport(spec));
    const produced = performance.timeOrigin + performance.now();
    // Done when the consumers together saw every event (each reports the events it saw: one may repeat another's).
    let reports = await reportsOf(consumers);
    let unique = 0;
    let lastProgress = Date.now();
    for (;;) {
      const handled = sum(reports, 'handled');
      if (handled >= spec.n) {
        reports = await reportsOf(consumers, true);
        unique = new Set(reports.flatMap(r => r.ids)).size;
        if (unique >= spec.n) break;
      }
      if (Date.now() - lastProgress > STALL_MS) break;
      await new Promise(r => setTimeout(r, 100));
      const next = await reportsOf(consumers);
      if (sum(next, 'handled') > handled) lastProgress = Date.now();
      reports = next;
    }
    if (unique < spec.n) unique = new Set((await reportsOf(consumers, true)).flatMap(r => r.ids)).size;
    const finished = Math.max(...reports.map(r => r.lastAt));
    return {
      system: spec.system,
      partitions: spec.partitions,
      evPerSec: (spec.n / (finished - started)) * 1000,
      // How fast the producer had every event taken by Redis: when close to ev/s, the producer set the pace.
      producerEvPerSec: (spec.n / (produced - started)) * 1000,
      lost: spec.n - unique,
      // Handler calls beyond the first for an event, in one consumer or across them.
      duplicates: sum(reports, 'duplicates') + sum(reports, 'handled') - unique,
      orderViolations: sum(reports, 'orderViolations'),
      // The mean time a handler call really took (--handler-ms: the timer's wait, late on a busy machine).
      handlerMeanMs: sum(reports, 'works') > 0 ? sum(reports, 'workMs') / sum(reports, 'works') : 0,
      pending: await pendingOf(redis, spec),
      load,
    };
  } finally {
    await Promise.all(consumers.map(stopConsumer));
  }
}

/** Ordered partitions are shared out by leases: measure once each consumer owns its share, not the hand-over. */
async function partitionsSharedOut(redis, spec) {
  const share = Math.ceil(spec.partitions / spec.consumers);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const owners = await Promise.all(Array.from({ length: spec.partitions }, (_, i) => redis.get(`${spec.pattern}:{${i}}:owner:g`)));
    const counts = new Map();
    for (const o of owners) if (o) counts.set(o, (counts.get(o) ?? 0) + 1);
    if (owners.every(Boolean) && [...counts.values()].every(n => n <= share)) return;
    if (Date.now() > deadline) throw new Error(`partitions of ${spec.pattern} not shared out within 30 s: ${JSON.stringify(owners)}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** Event i: key `k<i mod keys>`, its s-th event. */
function eventOf(i, keys) {
  return { i, k: `k${i % keys}`, s: Math.floor(i / keys) };
}

async function produceTransport(spec) {
  const client = new RedisStreamsClient({ connection: { type: 'cluster', nodes: spec.nodes }, partitions: { [spec.pattern]: spec.partitions } });
  await client.connect();
  try {
    // One emitMany() per batch, as raw sends one pipeline per batch: emit() per event (1,000 in flight) made the
    // producer, not the consumers, set the pace once ordered partitions stopped waiting a round trip per entry.
    for (let from = 0; from < spec.n; from += spec.batch) {
      const records = [];
      for (let i = from; i < Math.min(spec.n, from + spec.batch); i++) {
        const event = eventOf(i, spec.keys);
        records.push(new RedisStreamRecordBuilder(event).setPartitionKey(event.k).build());
      }
      await client.emitMany(spec.pattern, records);
    }
  } finally {
    await client.close();
  }
}

/** The same routing (partitionOf), one pipeline per partition (a cluster pipeline stays in one slot). */
async function produceRaw(redis, spec) {
  for (let from = 0; from < spec.n; from += spec.batch) {
    const byPartition = new Map();
    for (let i = from; i < Math.min(spec.n, from + spec.batch); i++) {
      const event = eventOf(i, spec.keys);
      const p = partitionOf(event.k, spec.partitions);
      if (!byPartition.has(p)) byPartition.set(p, redis.pipeline());
      byPartition.get(p).xadd(`${spec.pattern}:{${p}}`, '*', 'data', JSON.stringify(event));
    }
    await Promise.all([...byPartition.values()].map(p => p.exec()));
  }
}

async function pendingOf(redis, spec) {
  let pending = 0;
  for (let i = 0; i < spec.partitions; i++) {
    const [count] = await redis.xpending(`${spec.pattern}:{${i}}`, 'g').catch(() => [0]);
    pending += Number(count);
  }
  return pending;
}

async function deleteKeysOf(redis, pattern) {
  for (const node of redis.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `*${pattern}*`, 'COUNT', 1000);
      for (const key of keys) await node.del(key);
      cursor = next;
    } while (cursor !== '0');
  }
}

function startConsumer(cfg) {
  // BENCH_CONSUMER_NODE_ARGS (as in the runner's scenarios): Node flags for every consumer, e.g. "--cpu-prof".
  const execArgv = process.env.BENCH_CONSUMER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = fork(CONSUMER, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  return new Promise((resolve, reject) => {
    child.once('message', m => (m.type === 'ready' ? resolve(child) : reject(new Error(`consumer said ${JSON.stringify(m)}`))));
    child.once('exit', code => reject(new Error(`consumer exited with ${code} before it was ready`)));
  });
}

/** What each consumer saw; with `ids`, the event numbers too. */
function reportsOf(consumers, ids = false) {
  return Promise.all(
    consumers.map(child => new Promise(resolve => {
      const onMessage = m => {
        if (m.type !== 'report') return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send({ type: 'report', ids });
    })),
  );
}

async function stopConsumer(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise(r => child.once('exit', r));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function sum(list, field) {
  return list.reduce((n, r) => n + r[field], 0);
}

/** The median run by throughput; lost, duplicates, order violations and pending are the worst of all runs. */
function median(system, partitions, runs) {
  const sorted = [...runs].sort((a, b) => a.evPerSec - b.evPerSec);
  const mid = sorted[Math.floor(sorted.length / 2)];
  const worst = field => Math.max(...runs.map(r => r[field]));
  return {
    ...mid,
    system,
    partitions,
    min: sorted[0].evPerSec,
    max: sorted[sorted.length - 1].evPerSec,
    lost: worst('lost'),
    duplicates: worst('duplicates'),
    orderViolations: worst('orderViolations'),
    pending: worst('pending'),
    runs,
  };
}

export function partitionedTable(results) {
  const int = v => Math.round(v).toLocaleString('en-US');
  // With timed handlers: the mean call, and what one entry at a time per partition allows (partitions x 1000 / mean).
  const timed = results.some(r => r.handlerMeanMs > 0);
  const handler = r => (timed ? ` ${r.handlerMeanMs.toFixed(2)} | ${r.system === 'raw' ? '-' : `${int((r.partitions * 1000) / r.handlerMeanMs)} (${((r.evPerSec * r.handlerMeanMs) / (r.partitions * 1000) * 100).toFixed(0)}%)`} |` : '');
  const rows = results.map(r =>
    `| ${r.partitions} | ${r.system} | ${int(r.evPerSec)} | ${r.xRaw === null ? '-' : `${r.xRaw.toFixed(2)}x`} | ${int(r.producerEvPerSec)} | ${int(r.min)}-${int(r.max)} | ${r.lost} | ${r.duplicates} | ${r.system === 'raw' ? `(${r.orderViolations})` : r.orderViolations} | ${r.pending} |${handler(r)}`,
  );
  return [
    `| partitions | system | ev/s | x raw | producer ev/s | runs: ev/s min-max | lost | dup | order violations | pending |${timed ? ' handler ms (mean) | ordered ceiling ev/s (reached) |' : ''}`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |${timed ? ' --- | --- |' : ''}`,
    ...rows,
  ].join('\n');
}

/** A run that broke a promise: lost or pending events, or (the transport, which promises it) order per key. */
export function partitionedFailed(r) {
  return r.lost > 0 || r.pending > 0 || (r.system !== 'raw' && r.orderViolations > 0);
}

/** Prints the table and writes `partitioned-<time>.json` and `.md` into `dir`. */
export function printPartitioned(result, dir) {
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(dir, `partitioned-${stamp}.json`), JSON.stringify(result, null, 2));
  const o = result.options;
  const text = [
    `## Partitioned streams (run ${result.runId}, ${result.startedAt})`,
    '',
    `${o.consumers} consumer processes of one group, ${o.n} events over ${o.keys} keys, ${o.handlerMs ? `handlers taking ${o.handlerMs} ms (a timer)` : 'empty handlers'}, a local 3-master cluster; the transport with { partitions, ordered: true }; raw's order violations in parentheses (raw promises no order).`,
    '',
    partitionedTable(result.results),
    '',
  ].join('\n');
  writeFileSync(join(dir, `partitioned-${stamp}.md`), text);
  console.log(text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = parsePartitionedArgs(process.argv.slice(2));
  if (o.help) {
    console.log(HELP);
    process.exit(0);
  }
  const report = await runPartitioned(o);
  printPartitioned(report, o.outDir ?? join(BENCH_DIR, 'results'));
  process.exitCode = report.results.some(partitionedFailed) ? 1 : 0;
}
