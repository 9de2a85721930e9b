// Child process: one consumer of one system. Config in BENCH_CFG (JSON). Talks to the runner over IPC:
// -> ready, progress (every 100 ms), report;  <- report, stop.
import { readFileSync } from 'node:fs';
import { createConsumer } from './lib/systems.mjs';

const cfg = JSON.parse(process.env.BENCH_CFG);
const n = cfg.n;
const counts = new Uint8Array(n);
const latency = cfg.latency ? new Float32Array(n).fill(NaN) : null;
let distinct = 0;
let calls = 0;
let failures = 0;
let outOfRange = 0;
let firstAt = 0;
let lastNewAt = 0;
let peakRss = process.memoryUsage().rss;
const now = () => performance.timeOrigin + performance.now();

function handle(data, attempt) {
  calls++;
  const t = now();
  const i = data?.i;
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    outOfRange++;
    return;
  }
  // Retry scenario: 10% of the events fail on their first delivery.
  if (cfg.fail && i % 10 === 0 && attempt <= 1) {
    failures++;
    throw new Error('bench: planned failure');
  }
  if (firstAt === 0) firstAt = t;
  const c = counts[i];
  if (c < 255) counts[i] = c + 1;
  if (c === 0) {
    distinct++;
    lastNewAt = t;
    if (latency && i >= cfg.latencyFrom) latency[i] = t - data.ts;
  }
}

// RSS every 50 ms for the peak; every second, RSS and V8 heap in MB for the timeline (growth vs plateau).
const timeline = [];
let ticks = 0;
function sampleRss() {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  if (ticks++ % 20 === 0 && timeline.length < 3600) {
    const m = process.memoryUsage();
    timeline.push([Math.round(m.rss / 2 ** 20), Math.round(m.heapUsed / 2 ** 20), distinct]);
  }
}
const sampler = setInterval(sampleRss, 50);

function vmHwm() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const consumer = await createConsumer(cfg, handle);
const baselineRss = process.memoryUsage().rss;
const cpuAtReady = process.cpuUsage();
process.send({ type: 'ready', baselineRss });
const progress = setInterval(() => process.send({ type: 'progress', distinct, calls }), 100);

process.on('message', async msg => {
  if (msg.type === 'report') {
    sampleRss();
    const cpu = process.cpuUsage(cpuAtReady);
    process.send({
      cpuUs: cpu.user + cpu.system,
      type: 'report',
      distinct, calls, failures, outOfRange, firstAt, lastNewAt, baselineRss, peakRss, vmHwm: vmHwm(), memory: process.memoryUsage(), timeline,
      counts: Buffer.from(counts.buffer).toString('base64'),
      latency: latency ? Buffer.from(latency.buffer).toString('base64') : null,
    });
  } else if (msg.type === 'stop') {
    clearInterval(progress);
    clearInterval(sampler);
    const timer = setTimeout(() => process.exit(0), 8000);
    timer.unref();
    try {
      await consumer.close();
    } catch (err) {
      console.error('close failed', err);
    }
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
