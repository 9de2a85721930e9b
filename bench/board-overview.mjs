#!/usr/bin/env node
// node bench/board-overview.mjs [--streams 1000] [--runs 15]   (after npm run build)
// How long the board's overview takes on many streams: a redis-server of its own (never 6379) holding
// --streams streams, each with 2 groups (one consumer each, entries pending), 20 entries and, for every tenth
// stream, 5 dead letters; the board (built package, standalone server, overview cache off) answers
// GET /api/overview --runs times. Prints the median and the slowest; exits 1 if the median is 1 s or more.
import { Redis } from 'ioredis';
import { startStreamsBoard } from '../packages/board/dist/standalone.js';
import { startRedisServer } from './lib/redis-server.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const STREAMS = arg('streams', 1000);
const RUNS = arg('runs', 15);
const LIMIT_MS = 1000;

const server = await startRedisServer();
const redis = new Redis(server.port, '127.0.0.1');
let board;
try {
  process.stderr.write(`filling ${STREAMS} streams...\n`);
  for (let s = 0; s < STREAMS; s += 50) {
    const pipeline = redis.pipeline();
    for (let i = s; i < Math.min(s + 50, STREAMS); i++) {
      const key = `bench.stream.${String(i).padStart(4, '0')}`;
      for (let n = 0; n < 20; n++) pipeline.xadd(key, '*', 'data', `{"n":${n}}`, 'cid', `c-${n}`);
      for (const group of ['billing', 'audit']) {
        pipeline.xgroup('CREATE', key, group, '0');
        pipeline.xreadgroup('GROUP', group, `${group}-1`, 'COUNT', 5, 'STREAMS', key, '>');
      }
      if (i % 10 === 0) {
        for (let n = 0; n < 5; n++) pipeline.xadd(`${key}:dlq`, '*', 'data', '{}', 'dlq.stream', key, 'dlq.id', `1-${n}`, 'dlq.reason', 'max-attempts', 'dlq.attempts', '3');
      }
    }
    await pipeline.exec();
  }
  board = await startStreamsBoard({ connection: `redis://127.0.0.1:${server.port}`, port: 0, overviewCacheMs: 0 });
  const times = [];
  let rows = 0;
  for (let run = 0; run < RUNS + 1; run++) {
    const start = performance.now();
    const res = await fetch(`${board.url}api/overview`);
    const body = await res.json();
    const ms = performance.now() - start;
    if (res.status !== 200) throw new Error(`overview answered ${res.status}: ${JSON.stringify(body)}`);
    rows = body.rows.length;
    if (run > 0) times.push(ms); // the first one warms the connection and the JIT
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`board overview of ${STREAMS} streams (${rows} rows, ${STREAMS * 2} groups): median ${median.toFixed(0)} ms, slowest ${times[times.length - 1].toFixed(0)} ms over ${RUNS} runs (limit ${LIMIT_MS} ms)`);
  if (median >= LIMIT_MS) process.exitCode = 1;
} finally {
  await board?.close();
  redis.disconnect();
  await server.stop();
}
