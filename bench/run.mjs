#!/usr/bin/env node
// npm run bench [-- --only burst,latency --systems raw,transport --n 20000 ...]
// Runs the benchmark against a running Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379),
// prints a table to stdout, progress to stderr, and writes bench/results/bench-<time>.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, SCENARIOS as RUNNER_SCENARIOS, buildPlan, runBench } from './lib/runner.mjs';
import { PARTITIONED_DEFAULTS, PARTITIONED_SYSTEMS, partitionedFailed, printPartitioned, runPartitioned } from './partitioned.mjs';
import { SYSTEMS } from './lib/systems.mjs';
import { machineText, resultsTable, targets, targetsText } from './lib/report.mjs';

// `partitioned` runs on a Redis Cluster of its own (bench/partitioned.mjs), after the runner's scenarios.
const SCENARIOS = [...RUNNER_SCENARIOS, 'partitioned'];

const HELP = `Usage: node bench/run.mjs [options]   (or: npm run bench -- [options])

  --only LIST        scenarios, comma-separated (env BENCH_ONLY): ${SCENARIOS.join(', ')}
  --systems LIST     systems, comma-separated (env BENCH_SYSTEMS): ${Object.keys(SYSTEMS).join(', ')}
  --n N              events per run (env BENCH_N, default ${DEFAULTS.n})
  --memory-n N       backlog entries of the memory scenario (env BENCH_MEMORY_N, default ${DEFAULTS.memoryN})
  --rate R           latency scenario rate, events/s (env BENCH_RATE, default ${DEFAULTS.rate})
  --duration S       latency scenario duration, s (env BENCH_DURATION, default ${DEFAULTS.durationS})
  --warmup S         latency scenario warm-up at the same rate, not measured, s (env BENCH_WARMUP, default ${DEFAULTS.warmupS})
  --sizes LIST       payload scenario sizes in bytes (env BENCH_SIZES, default ${DEFAULTS.sizes.join(',')})
  --consumers LIST   consumer processes of the consumers scenario (env BENCH_CONSUMERS, default ${DEFAULTS.consumers.join(',')})
  --repeat K         runs of each system per scenario, interleaved; the median is reported (env BENCH_REPEAT, default ${DEFAULTS.repeat}; the memory scenario runs once)
  --drain-n N        events per stream the consumers scenario pre-fills and drains (env BENCH_DRAIN_N, default ${DEFAULTS.drainN}; BullMQ drains --n)
  --batch N          burst: events per emitMany/pipeline/addBulk, and emits in flight (env BENCH_BATCH, default ${DEFAULTS.batch})
  --partitions LIST  partitioned scenario: partition counts (env BENCH_PARTITIONS, default ${PARTITIONED_DEFAULTS.partitions.join(',')}); it runs --n events (default ${PARTITIONED_DEFAULTS.n} there) on a local 3-master cluster it starts itself
  --handler-ms MS    partitioned scenario: each handler call waits MS ms, a timer (env BENCH_HANDLER_MS, default 0: empty handlers)
  --redis URL        Redis to use (env BENCH_REDIS_URL, default ${DEFAULTS.redisUrl}); the durable scenario starts a master and a replica of its own
  --quiet-wait S     before each run, wait up to S seconds for the machine to be quiet (env BENCH_QUIET_WAIT, default ${DEFAULTS.quietWaitMs / 1000}; 0 on a machine that never is)
  --attempts N       runs of a disturbed run, the least disturbed kept (env BENCH_ATTEMPTS, default ${DEFAULTS.maxAttempts})
  --profile          node --cpu-prof on the first consumer of each run (bench/results/profiles/)
  --out DIR          where results go (default bench/results)
  --list             print the plan and exit
  --help`;

function parseArgs(argv, env) {
  const o = {};
  const list = v => v.split(',').map(s => s.trim()).filter(Boolean);
  const nums = v => list(v).map(Number);
  const set = {
    only: v => (o.only = list(v)),
    systems: v => (o.systems = list(v)),
    n: v => (o.n = Number(v)),
    'memory-n': v => (o.memoryN = Number(v)),
    rate: v => (o.rate = Number(v)),
    duration: v => (o.durationS = Number(v)),
    warmup: v => (o.warmupS = Number(v)),
    sizes: v => (o.sizes = nums(v)),
    consumers: v => (o.consumers = nums(v)),
    batch: v => (o.batch = Number(v)),
    repeat: v => (o.repeat = Number(v)),
    'drain-n': v => (o.drainN = Number(v)),
    partitions: v => (o.partitions = nums(v)),
    'handler-ms': v => (o.handlerMs = Number(v)),
    redis: v => (o.redisUrl = v),
    out: v => (o.outDir = v),
    'quiet-wait': v => (o.quietWaitMs = Number(v) * 1000),
    attempts: v => (o.maxAttempts = Number(v)),
  };
  const fromEnv = {
    BENCH_ONLY: 'only', BENCH_SYSTEMS: 'systems', BENCH_N: 'n', BENCH_MEMORY_N: 'memory-n', BENCH_RATE: 'rate',
    BENCH_DURATION: 'duration', BENCH_WARMUP: 'warmup', BENCH_SIZES: 'sizes', BENCH_CONSUMERS: 'consumers', BENCH_BATCH: 'batch', BENCH_REDIS_URL: 'redis', BENCH_REPEAT: 'repeat', BENCH_DRAIN_N: 'drain-n', BENCH_PARTITIONS: 'partitions', BENCH_HANDLER_MS: 'handler-ms',
    BENCH_QUIET_WAIT: 'quiet-wait', BENCH_ATTEMPTS: 'attempts',
  };
  for (const [k, name] of Object.entries(fromEnv)) if (env[k]) set[name](env[k]);
  if (env.BENCH_PROFILE === '1') o.profile = true;
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '--help' || a === '-h') o.help = true;
    else if (a === '--list') o.list = true;
    else if (a === '--profile') o.profile = true;
    else if (a.startsWith('--')) {
      a = a.slice(2);
      let v;
      if (a.includes('=')) [a, v] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
      else v = argv[++i];
      if (!set[a] || v === undefined) throw new Error(`unknown or incomplete option --${a}\n\n${HELP}`);
      set[a](v);
    } else throw new Error(`unexpected argument ${a}\n\n${HELP}`);
  }
  for (const s of o.only ?? []) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (known: ${SCENARIOS.join(', ')})`);
  const known = [...new Set([...Object.keys(SYSTEMS), ...PARTITIONED_SYSTEMS])];
  for (const s of o.systems ?? []) if (!known.includes(s)) throw new Error(`unknown system ${s} (known: ${known.join(', ')})`);
  if (o.quietWaitMs !== undefined && !(Number.isFinite(o.quietWaitMs) && o.quietWaitMs >= 0)) throw new Error('--quiet-wait must be a number of seconds >= 0');
  for (const k of ['n', 'memoryN', 'rate', 'durationS', 'batch', 'repeat', 'drainN', 'maxAttempts']) {
    if (o[k] !== undefined && !(Number.isFinite(o[k]) && o[k] > 0)) throw new Error(`--${k} must be a positive number`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2), process.env);
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}
const partitioned = !opts.only || opts.only.includes('partitioned');
const runnerOnly = opts.only?.filter(s => s !== 'partitioned');
const runnerScenarios = runnerOnly === undefined || runnerOnly.length > 0;
// --systems names systems of either kind: each part runs those it knows (all of its own when it knows none).
const runnerSystems = opts.systems?.filter(s => SYSTEMS[s]);
const partitionedSystems = opts.systems?.filter(s => PARTITIONED_SYSTEMS.includes(s));
if (opts.list) {
  if (runnerScenarios) {
    for (const s of buildPlan({ ...DEFAULTS, ...opts, only: runnerOnly, runId: 'list' })) console.log(`${String(s.idx).padStart(2)} ${s.group.padEnd(16)} ${s.system.padEnd(22)} N=${s.n}`);
  }
  if (partitioned) console.log(`   partitioned      ${(partitionedSystems?.length ? partitionedSystems : PARTITIONED_DEFAULTS.systems).join(', ')}  partitions ${(opts.partitions ?? PARTITIONED_DEFAULTS.partitions).join(',')}`);
  process.exit(0);
}

const report = runnerScenarios ? await runBench({ ...opts, only: runnerOnly, systems: runnerSystems?.length ? runnerSystems : undefined }) : undefined;
const partitionedReport = partitioned
  ? await runPartitioned({
      ...PARTITIONED_DEFAULTS,
      ...(opts.n ? { n: opts.n } : {}),
      ...(opts.repeat ? { repeat: opts.repeat } : {}),
      ...(opts.partitions ? { partitions: opts.partitions } : {}),
      ...(opts.handlerMs ? { handlerMs: opts.handlerMs } : {}),
      ...(partitionedSystems?.length ? { systems: partitionedSystems } : {}),
    })
  : undefined;
if (!report) {
  printPartitioned(partitionedReport, opts.outDir ?? join(import.meta.dirname, 'results'));
  process.exit(partitionedReport.results.some(partitionedFailed) ? 1 : 0);
}
const table = resultsTable(report.results);
const goals = targets(report.results);
const outDir = opts.outDir ?? join(import.meta.dirname, 'results');
mkdirSync(outDir, { recursive: true });
const stamp = report.startedAt.replace(/[:.]/g, '-');
const jsonPath = join(outDir, `bench-${stamp}.json`);
writeFileSync(jsonPath, JSON.stringify({ ...report, targets: goals }, null, 2));
const md = [
  `## Results (run ${report.runId}, ${report.startedAt}, ${report.durationS.toFixed(0)} s)`,
  '',
  machineText(report.machine),
  '',
  table,
  '',
  '### Targets',
  '',
  targetsText(goals),
  '',
].join('\n');
writeFileSync(join(outDir, `bench-${stamp}.md`), md);
console.log(md);
console.error(`results: ${jsonPath}`);
const failedRuns = report.results.filter(r => r.error);
process.exitCode = failedRuns.length > 0 ? 1 : 0;

if (partitionedReport) {
  printPartitioned(partitionedReport, outDir);
  if (partitionedReport.results.some(partitionedFailed)) process.exitCode = 1;
}

