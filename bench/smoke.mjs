#!/usr/bin/env node
// npm run bench:smoke — a short correctness run for CI: starts its own redis-server (from PATH) on a free
// port, runs the burst scenario with few events for raw ioredis, the transport (client.emit, default
// options; again with metrics on) and the transport with client.emitMany, and fails unless every event
// arrived exactly once and was acked. No timing assertion: the numbers printed are for information only.
import { startRedisServer } from './lib/redis-server.mjs';
import { runBench } from './lib/runner.mjs';
import { resultsTable } from './lib/report.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';

const n = Number(process.env.BENCH_SMOKE_N ?? 2000);
const SYSTEMS = ['raw', 'transport', 'transport-metrics', 'transport-bulk'];
const started = Date.now();
const redis = await startRedisServer();
const outDir = mkdtempSync(join(tmpdir(), 'nestream-bench-smoke-'));
let failures = [];
let report;
try {
  report = await runBench({
    redisUrl: redis.url,
    only: ['burst'],
    systems: SYSTEMS,
    n,
    batch: 250,
    idleMs: 5000,
    settleMs: 300,
    // Counts only: no waiting for a quiet machine and no re-runs of disturbed runs.
    quietWaitMs: 0,
    maxAttempts: 1,
    repeat: 1,
    outDir,
  });
} finally {
  await redis.stop();
}
console.log(resultsTable(report.results));
for (const r of report.results) {
  if (r.error) failures.push(`${r.system}: ${r.error}`);
  else if (r.lost !== 0 || r.duplicated !== 0 || r.pending !== 0 || !r.complete) {
    failures.push(`${r.system}: lost ${r.lost}, duplicated ${r.duplicated}, pending ${r.pending}`);
  }
}
if (report.results.length !== SYSTEMS.length) failures.push(`expected ${SYSTEMS.length} runs, got ${report.results.length}`);
const took = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.error(`bench:smoke FAILED after ${took} s (logs kept in ${outDir}):\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
rmSync(outDir, { recursive: true, force: true });
console.log(`bench:smoke: ${report.results.length} passed, 0 failed (lost 0, duplicated 0, pending 0; ${took} s)`);
