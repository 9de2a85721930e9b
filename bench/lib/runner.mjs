// The benchmark runner: builds the plan of runs, starts producer and consumers as child processes for each,
// waits until every event arrived (or stops waiting), checks counts, cleans the keys and reports.
import { execFileSync, fork } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SYSTEMS, redisHostPort } from './systems.mjs';
import { makePad, eventBytes } from './payload.mjs';
import { startReplicatedRedisServers } from './redis-server.mjs';

const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONSUMER = join(BENCH_DIR, 'consumer.mjs');
const PRODUCER = join(BENCH_DIR, 'producer.mjs');

export const SCENARIOS = ['burst', 'latency', 'fanout', 'consumers', 'payload', 'retry', 'memory', 'durable'];

/** Systems each scenario runs by default (a --systems list is intersected with these). */
const DEFAULT_SYSTEMS = {
  burst: ['raw', 'transport', 'transport-unbounded', 'transport-retention', 'transport-metrics', 'transport-tuned', 'transport-bulk', 'transport-bulk-tuned', 'nest-redis', 'bullmq'],
  latency: ['raw', 'transport', 'transport-tuned', 'transport-bulk', 'nest-redis', 'bullmq'],
  fanout: ['raw', 'transport', 'transport-bulk', 'nest-redis'],
  consumers: ['raw', 'transport', 'transport-bulk', 'transport-bulk-tuned', 'bullmq'],
  payload: ['raw', 'transport', 'transport-bulk', 'nest-redis', 'bullmq'],
  retry: ['raw', 'transport', 'transport-tuned', 'bullmq'],
  memory: ['raw', 'transport', 'transport-tuned'],
  durable: ['raw', 'raw-wait', 'transport', 'transport-durable', 'transport-bulk', 'transport-bulk-durable'],
};

export const DEFAULTS = {
  redisUrl: 'redis://127.0.0.1:6379',
  n: 50_000,
  size: 120,
  batch: 1000,
  rate: 2000,
  durationS: 10,
  /** Latency scenario: events sent at the same rate before the measured durationS, not counted in the percentiles (JIT warm-up). */
  warmupS: 1,
  consumers: [1, 2, 4],
  sizes: [100, 1024, 16_384],
  /** Payload scenario: at most this many bytes of events per run (16 KB x 50,000 would be 800 MB). */
  payloadBudgetBytes: 96 * 1024 * 1024,
  memoryN: 1_000_000,
  /** Consumers scenario: events in each stream drained (BullMQ drains n: its consumer is ~10x slower). */
  drainN: 300_000,
  retryDelayMs: 10,
  idleMs: 8000,
  /** Before each run, wait up to this long for the machine to be quiet (other processes < quietCores busy). */
  quietWaitMs: 60_000,
  quietCores: 0.2,
  /** A run during which other processes used more than this share of one core is run again (best kept). */
  disturbedShare: 0.25,
  maxAttempts: 3,
  /** Runs of each system per scenario, interleaved (raw, transport, ..., raw, transport, ...); the median is reported. */
  repeat: 3,
  settleMs: 500,
  profile: false,
};

/** The list of runs. Every run has its own stream key / channel / queue name. */
export function buildPlan(o) {
  const runId = o.runId;
  const plan = [];
  const want = (scenario, extraFilter = () => true) =>
    DEFAULT_SYSTEMS[scenario].filter(s => (!o.systems || o.systems.includes(s)) && extraFilter(SYSTEMS[s]));
  const add = spec => {
    const idx = plan.length + 1;
    plan.push({
      idx, groups: 1, perGroup: 1, size: o.size, mode: 'burst', latency: false, fail: false,
      key: `nsbench-${runId}-${idx}-${spec.scenario}-${spec.system}`, ...spec,
    });
  };
  for (const scenario of o.only ?? SCENARIOS) {
    switch (scenario) {
      case 'burst':
        for (const system of want('burst')) add({ scenario, group: 'burst', system, n: o.n });
        break;
      case 'latency': {
        const warmupN = Math.round(o.rate * o.warmupS);
        const n = warmupN + Math.round(o.rate * o.durationS);
        for (const system of want('latency')) add({ scenario, group: 'latency', system, n, warmupN, mode: 'rate', latency: true });
        break;
      }
      case 'fanout':
        for (const system of want('fanout', s => s.fanout)) add({ scenario, group: 'fanout-3', system, n: o.n, groups: 3 });
        break;
      case 'consumers':
        // Consumer scaling: the producer fills the stream first, then k consumers drain it. (With the producer
        // running alongside, the run measures the producer, which is the slower side on a small machine.)
        for (const k of o.consumers) {
          for (const system of want('consumers', s => s.competing !== false)) {
            // Streams are filled once per system (key shared by the runs); BullMQ is refilled for each run.
            const drain = SYSTEMS[system].stream
              ? { n: o.drainN, key: `nsbench-${runId}-drain-${system}` }
              : { n: o.n };
            add({ scenario, group: `consumers-${k}`, system, perGroup: k, mode: 'drain', startId: '0', ...drain });
          }
        }
        break;
      case 'payload':
        for (const size of o.sizes) {
          const n = Math.max(1000, Math.min(o.n, Math.floor(o.payloadBudgetBytes / size)));
          for (const system of want('payload')) add({ scenario, group: `payload-${size}`, system, n, size });
        }
        break;
      case 'retry':
        for (const system of want('retry', s => s.retry)) add({ scenario, group: 'retry-10%', system, n: o.n, fail: true });
        break;
      case 'durable':
        // On a master with one replica the runner starts itself (replicated: true), never on --redis.
        for (const system of want('durable')) add({ scenario, group: 'durable-1-replica', system, n: o.n, replicated: true });
        break;
      case 'memory': {
        const systems = want('memory', s => s.backlog);
        const key = `nsbench-${runId}-backlog`;
        systems.forEach((system, i) => {
          add({
            scenario, group: 'memory-backlog', system, n: o.memoryN, mode: 'backlog', startId: '0', key,
            lastOfKey: i === systems.length - 1,
          });
        });
        break;
      }
      default:
        throw new Error(`unknown scenario "${scenario}" (known: ${SCENARIOS.join(', ')})`);
    }
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------------------

class Child {
  constructor(script, cfg, logPath, execArgv = []) {
    const fd = openSync(logPath, 'a');
    this.proc = fork(script, [], {
      env: { ...process.env, BENCH_CFG: JSON.stringify(cfg) },
      stdio: ['ignore', fd, fd, 'ipc'],
      execArgv,
    });
    closeSync(fd);
    this.last = {};
    this.waiters = [];
    this.exitCode = undefined;
    this.proc.on('message', msg => {
      this.last[msg.type] = msg;
      for (const w of [...this.waiters]) if (w.type === msg.type) w.resolve(msg);
    });
    this.exited = new Promise(resolve =>
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code ?? signal;
        for (const w of [...this.waiters]) w.reject(new Error(`${script} exited (${code ?? signal}) before "${w.type}"; see ${logPath}`));
        resolve();
      }),
    );
  }

  wait(type, timeoutMs) {
    if (this.last[type]) return Promise.resolve(this.last[type]);
    if (this.exitCode !== undefined) return Promise.reject(new Error(`child exited (${this.exitCode}) before "${type}"`));
    return new Promise((resolve, reject) => {
      const w = {
        type,
        resolve: v => done(() => resolve(v)),
        reject: e => done(() => reject(e)),
      };
      const timer = setTimeout(() => w.reject(new Error(`timed out after ${timeoutMs} ms waiting for "${type}"`)), timeoutMs);
      const done = f => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter(x => x !== w);
        f();
      };
      this.waiters.push(w);
    });
  }

  /** Fresh answer to a request (e.g. 'report'), not a cached one. */
  request(type, timeoutMs) {
    delete this.last[type];
    this.send({ type });
    return this.wait(type, timeoutMs);
  }

  send(msg) {
    // A child that has just disconnected (a producer when done) makes send fail: nothing to tell it then.
    if (this.proc.connected) this.proc.send(msg, () => undefined);
  }

  async stop(timeoutMs = 15_000) {
    if (this.exitCode !== undefined) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

async function deleteKeys(redis, pattern) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}

async function prefill(redis, key, n, size, progress) {
  const pad = makePad(size, n);
  const chunk = 10_000;
  for (let i = 0; i < n; i += chunk) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(n, i + chunk); j++) p.xadd(key, '*', 'data', JSON.stringify({ i: j, ts: 0, p: pad }));
    await p.exec();
    progress(`prefilling backlog ${Math.min(n, i + chunk).toLocaleString('en-US')}/${n.toLocaleString('en-US')}`);
  }
}

/**
 * Drain mode: the system's own producer writes the n events before any consumer runs; the consumers then
 * start, and only when all of them are ready does `open()` make the events visible to them at once:
 * streams: the groups are created at the end ($) and moved back to 0, and one extra entry (i = -1, not
 * counted) wakes the blocked readers; BullMQ: the queue is paused while filling and resumed.
 */
async function fillForDrain(spec, o, base, logDir, label, redis, status) {
  const sys = SYSTEMS[spec.system];
  let queue;
  if (spec.system === 'bullmq') {
    const { Queue } = await import('bullmq');
    queue = new Queue(spec.key, { connection: redisHostPort(o.redisUrl) });
    await queue.pause();
  }
  // A stream is filled once per system and drained by a new group in every run; a queue is emptied by its run.
  if (!sys.stream || !o.filled.has(spec.key)) {
    status(`filling ${sys.stream ? 'the stream' : 'the queue'} with ${spec.n.toLocaleString('en-US')} events`);
    const producer = new Child(PRODUCER, { ...base, mode: 'burst', batch: o.batch, rate: o.rate }, join(logDir, `${label}-fill.log`));
    try {
      await producer.wait('ready', 60_000);
      producer.send({ type: 'go' });
      await producer.wait('done', Math.max(120_000, spec.n * 2));
    } finally {
      await producer.stop();
    }
    if (sys.stream) o.filled.add(spec.key);
  }
  const groups = Array.from({ length: spec.groups }, (_, g) => groupName(spec, g));
  if (sys.stream) for (const g of groups) await redis.xgroup('CREATE', spec.key, g, '$', 'MKSTREAM');
  return {
    async open() {
      if (queue) return queue.resume();
      for (const g of groups) await redis.xgroup('SETID', spec.key, g, '0');
      await redis.xadd(spec.key, '*', 'data', JSON.stringify({ i: -1 }));
    },
    async close() {
      await queue?.close();
    },
  };
}

/** The consumer group of group index g in a run (drain runs share a stream, so each has its own groups). */
function groupName(spec, g) {
  return spec.mode === 'drain' ? `${spec.system}-g${g}-run${spec.runSeq}` : `${spec.system}-g${g}`;
}

/** Entries read by a group and not acked yet, or jobs not finished, after a run. null = not applicable. */
async function unfinished(redis, spec) {
  const sys = SYSTEMS[spec.system];
  if (sys.stream) {
    let total = 0;
    for (let g = 0; g < spec.groups; g++) {
      const [count] = await redis.xpending(spec.key, groupName(spec, g));
      total += Number(count);
    }
    return total;
  }
  if (spec.system === 'bullmq') {
    const { Queue } = await import('bullmq');
    const q = new Queue(spec.key, { connection: redisHostPort(spec.redisUrl) });
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children', 'failed');
    await q.close();
    return Object.values(c).reduce((a, b) => a + b, 0);
  }
  return null;
}

function parseCommandStats(text) {
  const out = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return out;
}

/** Redis commands the run caused (INFO commandstats after minus before): calls and Redis CPU time per command. */
function commandStatsDelta(before, after) {
  const out = {};
  for (const [cmd, a] of Object.entries(after)) {
    const b = before[cmd] ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) out[cmd] = { calls: a.calls - b.calls, usec: a.usec - b.usec };
  }
  return out;
}

/** Busy CPU time of the whole machine so far, and the part stolen by the hypervisor, in µs (from /proc/stat; null where there is none). */
function machineBusyUs() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
    return { busy: ((user + nice + system + irq + softirq + steal) * 1e6) / 100, steal: (steal * 1e6) / 100 }; // USER_HZ = 100
  } catch {
    return null;
  }
}

async function redisCpuUs(redis) {
  const info = await redis.info('cpu');
  const get = k => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
}

/** Runs one spec end to end and returns its result row. */
async function runOne(spec, o, redis, status) {
  const logDir = join(o.outDir, 'logs', o.runId);
  mkdirSync(logDir, { recursive: true });
  const label = `${String(spec.idx).padStart(2, '0')}-${spec.scenario}-${spec.group}-${spec.system}`;
  const base = {
    system: spec.system, key: spec.key, redisUrl: o.redisUrl, n: spec.n, size: spec.size,
    fail: spec.fail, retryDelayMs: o.retryDelayMs, latency: spec.latency, latencyFrom: spec.warmupN ?? 0, startId: spec.startId,
  };
  const result = {
    idx: spec.idx, scenario: spec.scenario, group: spec.group, system: spec.system, n: spec.n,
    eventBytes: eventBytes(spec.size, spec.n), groups: spec.groups, consumersPerGroup: spec.perGroup,
    mode: spec.mode, rate: spec.mode === 'rate' ? o.rate : undefined,
  };
  const children = [];
  let gate;
  const cleanup = async () => {
    await gate?.close();
    await Promise.all(children.map(c => c.stop()));
    const shared = spec.mode === 'backlog' || (spec.mode === 'drain' && SYSTEMS[spec.system].stream);
    if (!shared || spec.lastOfKey) await deleteKeys(redis, `*${spec.key}*`);
  };
  try {
    if (spec.mode === 'backlog' && !o.filled.has(spec.key)) {
      await prefill(redis, spec.key, spec.n, spec.size, status);
      o.filled.add(spec.key);
    }
    gate = spec.mode === 'drain' ? await fillForDrain(spec, o, base, logDir, label, redis, status) : undefined;
    const statsBefore = parseCommandStats(await redis.info('commandstats'));
    const consumers = [];
    for (let g = 0; g < spec.groups; g++) {
      for (let c = 0; c < spec.perGroup; c++) {
        const execArgv = o.profile && g === 0 && c === 0
          ? ['--cpu-prof', `--cpu-prof-dir=${join(o.outDir, 'profiles', o.runId)}`, `--cpu-prof-name=${label}-consumer.cpuprofile`]
          : [];
        if (process.env.BENCH_CONSUMER_NODE_ARGS) execArgv.push(...process.env.BENCH_CONSUMER_NODE_ARGS.split(' '));
        const child = new Child(CONSUMER, { ...base, group: groupName(spec, g), consumer: `c${g}-${c}` }, join(logDir, `${label}-consumer-${g}-${c}.log`), execArgv);
        child.groupIndex = g;
        children.push(child);
        consumers.push(child);
      }
    }
    await Promise.all(consumers.map(c => c.wait('ready', 60_000)));
    let cpu0;

    let producer;
    let producerDone = spec.mode === 'backlog' || spec.mode === 'drain';
    if (!producerDone) {
      const execArgv = o.profile
        ? ['--cpu-prof', `--cpu-prof-dir=${join(o.outDir, 'profiles', o.runId)}`, `--cpu-prof-name=${label}-producer.cpuprofile`]
        : [];
      producer = new Child(PRODUCER, { ...base, mode: spec.mode, batch: o.batch, rate: o.rate }, join(logDir, `${label}-producer.log`), execArgv);
      children.push(producer);
      await producer.wait('ready', 60_000);
      cpu0 = { machine: machineBusyUs(), redis: await redisCpuUs(redis), runner: process.cpuUsage() };
      producer.wait('done', 24 * 3600_000).then(() => (producerDone = true), () => (producerDone = true));
      producer.send({ type: 'go' });
    } else {
      cpu0 = { machine: machineBusyUs(), redis: await redisCpuUs(redis), runner: process.cpuUsage() };
      await gate?.open();
    }

    // Wait until every group saw every event, or nothing new arrives for idleMs after the producer finished.
    const t0 = Date.now();
    const hardLimit = t0 + Math.max(120_000, spec.n * 2) + (spec.mode === 'rate' ? (spec.n / o.rate) * 1000 : 0);
    let lastSum = -1;
    let lastChange = Date.now();
    let complete = false;
    for (;;) {
      const perGroup = new Array(spec.groups).fill(0);
      for (const c of consumers) perGroup[c.groupIndex] += c.last.progress?.distinct ?? 0;
      const sum = perGroup.reduce((a, b) => a + b, 0);
      if (sum !== lastSum) {
        lastSum = sum;
        lastChange = Date.now();
      }
      complete = perGroup.every(x => x >= spec.n);
      status(`${Math.min(...perGroup).toLocaleString('en-US')}/${spec.n.toLocaleString('en-US')} ev, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (complete) break;
      const dead = children.find(c => c.exitCode !== undefined && c !== producer);
      if (dead) throw new Error(`a consumer exited early (${dead.exitCode})`);
      if (producer && producer.exitCode !== undefined && producer.exitCode !== 0) throw new Error(`the producer failed (${producer.exitCode})`);
      if (producerDone && Date.now() - lastChange > o.idleMs) break;
      if (Date.now() > hardLimit) break;
      await sleep(50);
    }
    result.complete = complete;
    await sleep(o.settleMs); // late duplicates show up in the counts

    // Acked? (streams: XPENDING of every group; BullMQ: jobs not finished)
    let pending = await unfinished(redis, { ...spec, redisUrl: o.redisUrl });
    const ackDeadline = Date.now() + 5000;
    while (pending && Date.now() < ackDeadline) {
      await sleep(50);
      pending = await unfinished(redis, { ...spec, redisUrl: o.redisUrl });
    }
    result.pending = pending;

    result.redisCommands = commandStatsDelta(statsBefore, parseCommandStats(await redis.info('commandstats')));
    const reports = await Promise.all(consumers.map(c => c.request('report', 30_000)));
    const done = producer ? producer.last.done : undefined;
    // CPU time spent during the run, in ms: by the consumers, the producer, Redis, and by other processes
    // of the machine (noise: anything well above 0 means the numbers of this run are disturbed).
    const machine = machineBusyUs();
    const runnerCpu = process.cpuUsage(cpu0.runner);
    const cpu = {
      consumersMs: reports.reduce((a, r) => a + r.cpuUs, 0) / 1000,
      producerMs: done ? done.cpuUs / 1000 : 0,
      redisMs: ((await redisCpuUs(redis)) - cpu0.redis) / 1000,
      runnerMs: (runnerCpu.user + runnerCpu.system) / 1000,
    };
    if (machine != null && cpu0.machine != null) {
      cpu.machineMs = (machine.busy - cpu0.machine.busy) / 1000;
      cpu.stealMs = (machine.steal - cpu0.machine.steal) / 1000;
      cpu.otherMs = Math.max(0, cpu.machineMs - cpu.stealMs - cpu.consumersMs - cpu.producerMs - cpu.redisMs - cpu.runnerMs);
    }
    result.cpu = cpu;
    result.consumerCpuUsPerEvent = (cpu.consumersMs * 1000) / (spec.n * spec.groups);
    result.producerCpuUsPerEvent = done ? (cpu.producerMs * 1000) / spec.n : null;
    result.redisCpuUsPerEvent = (cpu.redisMs * 1000) / spec.n;
    result.loadAvg1 = (await import('node:os')).loadavg()[0];
    // Counts, per group.
    let lost = 0;
    let dup = 0;
    const lat = [];
    for (let g = 0; g < spec.groups; g++) {
      const merged = new Uint16Array(spec.n);
      for (let k = 0; k < consumers.length; k++) {
        if (consumers[k].groupIndex !== g) continue;
        const counts = new Uint8Array(Buffer.from(reports[k].counts, 'base64'));
        for (let i = 0; i < spec.n; i++) merged[i] += counts[i];
      }
      for (let i = 0; i < spec.n; i++) {
        if (merged[i] === 0) lost++;
        else if (merged[i] > 1) dup += merged[i] - 1;
      }
    }
    if (spec.latency) {
      // Max latency per 100 ms of sending (event i was sent at about i / rate s), to see whether spikes are periodic.
      const window = Math.max(1, Math.round(o.rate / 10));
      const timeline = new Array(Math.ceil(spec.n / window)).fill(0);
      for (const r of reports) {
        const buf = Buffer.from(r.latency, 'base64');
        const arr = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        arr.forEach((v, i) => {
          if (Number.isNaN(v)) return;
          lat.push(v);
          const w = Math.floor(i / window);
          if (v > timeline[w]) timeline[w] = v;
        });
      }
      result.latencyMaxPer100Ms = timeline.map(v => Math.round(v * 100) / 100);
      lat.sort((a, b) => a - b);
      result.latencySamples = lat.length;
      result.p50Ms = percentile(lat, 50);
      result.p99Ms = percentile(lat, 99);
      result.maxMs = lat.length ? lat[lat.length - 1] : null;
    }
    result.lost = lost;
    result.duplicated = dup;
    result.handlerCalls = reports.reduce((a, r) => a + r.calls, 0);
    result.plannedFailures = reports.reduce((a, r) => a + r.failures, 0);
    result.perConsumer = reports.map(r => r.distinct);
    const startAt = done ? done.startAt : Math.min(...reports.map(r => r.firstAt).filter(Boolean));
    const endAt = Math.max(...reports.map(r => r.lastNewAt));
    result.elapsedMs = endAt - startAt;
    result.evPerSec = lost === 0 || spec.mode !== 'burst' ? spec.n / (result.elapsedMs / 1000) : (spec.n - lost / spec.groups) / (result.elapsedMs / 1000);
    if (done) {
      result.producerMs = done.endAt - done.startAt;
      result.producerEvPerSec = spec.n / (result.producerMs / 1000);
    }
    result.peakRssMB = Math.max(...reports.map(r => r.peakRss)) / 2 ** 20;
    result.vmHwmMB = Math.max(...reports.map(r => r.vmHwm ?? 0)) / 2 ** 20;
    result.baselineRssMB = Math.max(...reports.map(r => r.baselineRss)) / 2 ** 20;
    if (spec.mode === 'backlog') result.memoryTimeline = { columns: ['rssMB', 'heapUsedMB', 'handled'], everySeconds: 1, rows: reports[0].timeline };
  } catch (err) {
    result.error = String(err?.message ?? err);
  } finally {
    await cleanup().catch(err => (result.cleanupError = String(err?.message ?? err)));
  }
  return result;
}

export function machineInfo(redisInfo) {
  return import('node:os').then(os => {
    const pkg = name => {
      try {
        return JSON.parse(readFileSync(join(BENCH_DIR, '..', 'node_modules', name, 'package.json'), 'utf8')).version;
      } catch {
        return null;
      }
    };
    const cpus = os.cpus();
    let git = null;
    try {
      const run = args => execFileSync('git', args, { cwd: join(BENCH_DIR, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      git = { commit: run(['rev-parse', 'HEAD']), transportSourceModified: run(['status', '--porcelain', '--', 'packages/transport']) !== '' };
    } catch {
      // not a git checkout
    }
    return {
      git,
      cpu: cpus[0]?.model,
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      redis: /redis_version:(\S+)/.exec(redisInfo)?.[1],
      packages: Object.fromEntries(
        ['@nestream/transport', 'ioredis', '@nestjs/core', '@nestjs/microservices', 'bullmq', 'rxjs'].map(p => [p, pkg(p)]),
      ),
    };
  });
}

/** Ratio to raw ioredis of the same run group. */
export function addRatios(results) {
  const raw = new Map(results.filter(r => r.system === 'raw' && !r.error).map(r => [r.group, r.evPerSec]));
  for (const r of results) r.ratioToRaw = raw.has(r.group) && r.evPerSec ? r.evPerSec / raw.get(r.group) : null;
}

/** Waits until the machine's busy CPU (all processes, ours are idle now) is under `cores` cores, or timeoutMs. */
async function waitQuiet(cores, timeoutMs, status) {
  if (!(timeoutMs > 0)) return { busyCores: null };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = machineBusyUs();
    if (a == null) return { waitedMs: 0, busyCores: null };
    const t = Date.now();
    await sleep(500);
    const busyCores = (machineBusyUs().busy - a.busy) / 1000 / (Date.now() - t);
    if (busyCores < cores || Date.now() > deadline) return { busyCores };
    status(`waiting for the machine to be quiet (other processes use ${busyCores.toFixed(2)} cores)`);
  }
}

function disturbance(r) {
  if (r.error || r.cpu?.otherMs == null || !(r.elapsedMs > 0)) return 0;
  return (r.cpu.otherMs + (r.cpu.stealMs ?? 0)) / Math.max(r.elapsedMs, 1000);
}

/** Runs the whole plan. `log` gets progress text (stderr). */
export async function runBench(options, log = defaultProgress()) {
  const o = { ...DEFAULTS, ...options };
  o.runId ??= randomBytes(3).toString('hex');
  o.outDir ??= join(BENCH_DIR, 'results');
  o.filled = new Set();
  const plan = buildPlan(o);
  // The durable scenario runs on a master and replica of its own; the others on --redis (not connected to
  // when only the durable scenario runs).
  const replicated = plan.some(s => s.replicated) ? await startReplicatedRedisServers() : undefined;
  const onReplicated = replicated && new Redis(replicated.url, { maxRetriesPerRequest: 3 });
  const redis = plan.some(s => !s.replicated) ? new Redis(o.redisUrl, { maxRetriesPerRequest: 3 }) : undefined;
  const info = await (redis ?? onReplicated).info('server');
  const machine = await machineInfo(info);
  const results = [];
  const started = Date.now();
  // Consecutive runs of one scenario group, run `repeat` times interleaved: a burst of machine noise then
  // hits one run of each system rather than every run of one system.
  const blocks = [];
  for (const spec of plan) {
    const last = blocks.at(-1);
    if (last && last[0].group === spec.group) last.push(spec);
    else blocks.push([spec]);
  }
  try {
    for (const specs of blocks) {
      const repeat = specs[0].mode === 'backlog' ? 1 : Math.max(1, o.repeat);
      const runs = new Map(specs.map(spec => [spec, []]));
      for (let k = 1; k <= repeat; k++) {
        for (const spec of specs) {
          const round = repeat > 1 ? ` run ${k}/${repeat}` : '';
          const head = `[${String(spec.idx).padStart(2)}/${plan.length}${round}] ${spec.group} ${spec.system} N=${spec.n.toLocaleString('en-US')}`;
          const status = text => log.update(`${head}: ${text} (total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
          let best;
          for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
            const quiet = await waitQuiet(o.quietCores, o.quietWaitMs, status);
            status(attempt > 1 ? `attempt ${attempt} (the last one was disturbed by other processes)` : 'starting');
            const wallStart = Date.now();
            spec.runSeq = (o.runSeq = (o.runSeq ?? 0) + 1);
            const r = spec.replicated
              ? await runOne(spec, { ...o, redisUrl: replicated.url }, onReplicated, status)
              : await runOne(spec, o, redis, status);
            r.wallMs = Date.now() - wallStart;
            r.attempt = attempt;
            r.busyCoresBefore = quiet.busyCores;
            r.disturbed = disturbance(r) > o.disturbedShare;
            if (!best || (!r.error && (best.error || disturbance(r) < disturbance(best)))) best = r;
            if (r.error || !r.disturbed || spec.mode === 'backlog') break;
          }
          runs.get(spec).push(best);
          log.done(`${head}: ${summaryLine(best)}`);
        }
      }
      for (const spec of specs) results.push(median(runs.get(spec)));
    }
  } finally {
    if (redis) await deleteKeys(redis, `*nsbench-${o.runId}-*`).catch(() => undefined); // shared streams (drain, backlog)
    redis?.disconnect();
    onReplicated?.disconnect();
    await replicated?.stop();
  }
  addRatios(results);
  return { runId: o.runId, startedAt: new Date(started).toISOString(), durationS: (Date.now() - started) / 1000, machine, options: publicOptions(o), results };
}

/**
 * The run reported for a system: the median of its repeats (by p99 for a latency run, else by ev/s).
 * Counts are never averaged away: lost, duplicated and pending are the worst of all repeats.
 */
function median(runs) {
  const ok = runs.filter(r => !r.error);
  if (ok.length === 0) return runs[0];
  const key = r => (r.mode === 'rate' ? -(r.p99Ms ?? Infinity) : r.evPerSec);
  const sorted = [...ok].sort((a, b) => key(a) - key(b));
  const pick = { ...sorted[Math.floor((sorted.length - 1) / 2)] };
  pick.repeats = runs.map(r => ({
    evPerSec: r.evPerSec, p99Ms: r.p99Ms, peakRssMB: r.peakRssMB, lost: r.lost, duplicated: r.duplicated, pending: r.pending, error: r.error,
    producerCpuUsPerEvent: r.producerCpuUsPerEvent, consumerCpuUsPerEvent: r.consumerCpuUsPerEvent, redisCpuUsPerEvent: r.redisCpuUsPerEvent,
    otherCpuS: r.cpu?.otherMs == null ? undefined : (r.cpu.otherMs + (r.cpu.stealMs ?? 0)) / 1000, disturbed: r.disturbed,
  }));
  pick.lost = Math.max(...ok.map(r => r.lost));
  pick.duplicated = Math.max(...ok.map(r => r.duplicated));
  if (ok.some(r => r.pending != null)) pick.pending = Math.max(...ok.map(r => r.pending ?? 0));
  pick.complete = ok.every(r => r.complete);
  if (ok.length < runs.length) pick.failedRepeats = runs.length - ok.length;
  return pick;
}

function publicOptions(o) {
  const { filled, ...rest } = o;
  return rest;
}

function summaryLine(r) {
  if (r.error) return `ERROR ${r.error}`;
  const parts = [`${fmtInt(r.evPerSec)} ev/s`, `${(r.elapsedMs / 1000).toFixed(2)} s`, `lost ${r.lost}`, `dup ${r.duplicated}`];
  if (r.p99Ms != null) parts.push(`p50 ${r.p50Ms.toFixed(2)} ms`, `p99 ${r.p99Ms.toFixed(2)} ms`);
  if (r.scenario === 'memory') parts.push(`peak RSS ${r.peakRssMB.toFixed(0)} MB`);
  if (r.pending) parts.push(`pending ${r.pending}`);
  if (r.cpu?.otherMs != null) {
    parts.push(`other processes ${(r.cpu.otherMs / 1000).toFixed(1)} CPU s, steal ${(r.cpu.stealMs / 1000).toFixed(1)} s${r.disturbed ? ' (DISTURBED)' : ''}`);
  }
  return parts.join(', ');
}

export function defaultProgress(stream = process.stderr) {
  const tty = stream.isTTY;
  let lastLen = 0;
  let lastPrint = 0;
  return {
    update(text) {
      if (tty) {
        stream.write(`\r${text.padEnd(lastLen)}`);
        lastLen = text.length;
      } else if (Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        stream.write(`${text}\n`);
      }
    },
    done(text) {
      if (tty) stream.write(`\r${text.padEnd(lastLen)}\n`);
      else stream.write(`${text}\n`);
      lastLen = 0;
      lastPrint = Date.now();
    },
  };
}

export const fmtInt = v => (v == null || !Number.isFinite(v) ? '-' : Math.round(v).toLocaleString('en-US'));
