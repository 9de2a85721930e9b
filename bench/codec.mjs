#!/usr/bin/env node
// node bench/codec.mjs — the cost of decode() per entry (every event a consumer reads goes through it), on
// entries shaped like real traffic, against the built package (npm run build first). No Redis involved.
//
//   node bench/codec.mjs                                  # this build
//   node bench/codec.mjs --baseline <other build>/dist/index.js   # and another build, compared in one process
//   node bench/codec.mjs --rounds 31                      # more rounds (default 21)
//
// Each round runs a case for about 20 ms; the table shows the fastest round (the least disturbed by other
// processes: on a shared 2-core machine the median moves by 2x from run to run, the minimum by a few percent)
// and the median. With --baseline, the two builds' rounds alternate, so both see the same machine.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const rounds = Number(argValue('--rounds') ?? 21);
const baselinePath = argValue('--baseline');
const current = await import('@nestream/transport');
const baseline = baselinePath ? await import(pathToFileURL(baselinePath).href) : undefined;

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** An order as a typical service emits it: nested objects, an array, strings and numbers. */
function order(items) {
  return {
    id: randomUUID(),
    customer: { id: 'c-42', name: 'Ada Lovelace', email: 'ada@example.com', tier: 'gold' },
    items: Array.from({ length: items }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: (i % 3) + 1, price: 9.99 + i })),
    total: 123.45,
    currency: 'EUR',
    createdAt: '2026-01-27T10:00:00.000Z',
  };
}

const fields = (data, extra = {}) => current.encode({ data, correlationId: randomUUID(), ...extra }).map(String);
const replyTo = `nestream:replies:${randomUUID()}`;
const cases = [
  ['bench event (120 B, {i, ts, p})', fields({ i: 49_999, ts: 1769508000123.123, p: 'x'.repeat(70) })],
  ['order, 2 items', fields(order(2))],
  ['order, 20 items', fields(order(20))],
  ['order, 400 items (more than 64 objects)', fields(order(400))],
  ['request: order + 2 headers, rt, dl', fields(order(2), { headers: { tenant: 'acme', traceparent: '00-abc-def-01' }, replyTo, deadline: Date.now() + 30_000 })],
  ['non-ASCII as \\u escapes (Python json.dumps)', ['data', JSON.stringify(order(2)).replace(/Ada/g, 'Ad\\u00e5'), 'cid', randomUUID()]],
  ['"__proto__" inside a string value', fields({ ...order(2), note: 'about __proto__' })],
];

/** Calls per round so that a round takes about 20 ms. */
function calibrate(decode, entry) {
  let n = 100;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) decode(entry);
    if (Number(process.hrtime.bigint() - t0) > 20e6) return n;
    n *= 2;
  }
}

function round(decode, entry, n) {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += decode(entry).headers ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (sink < 0) console.log(sink);
  return ns;
}

const stats = samples => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
};
const fmt = ns => Math.round(ns).toLocaleString('en');

console.log(`decode() per entry, ns, node ${process.version}: fastest of ${rounds} rounds (median)`);
console.log(baseline ? `baseline: ${baselinePath}\n` : '');
console.log(baseline ? '| case | entry bytes | baseline | this build | change |' : '| case | entry bytes | this build |');
console.log(baseline ? '|---|---:|---:|---:|---:|' : '|---|---:|---:|');
for (const [name, entry] of cases) {
  const bytes = entry.reduce((n, f) => n + Buffer.byteLength(f), 0);
  const now = [];
  const before = [];
  const n = calibrate(current.decode, entry);
  if (baseline) calibrate(baseline.decode, entry);
  for (let r = 0; r < rounds; r++) {
    now.push(round(current.decode, entry, n));
    if (baseline) before.push(round(baseline.decode, entry, n));
  }
  const a = stats(now);
  if (!baseline) {
    console.log(`| ${name} | ${bytes.toLocaleString('en')} | ${fmt(a.min)} (${fmt(a.median)}) |`);
    continue;
  }
  const b = stats(before);
  const change = ((a.min - b.min) / b.min) * 100;
  console.log(`| ${name} | ${bytes.toLocaleString('en')} | ${fmt(b.min)} (${fmt(b.median)}) | ${fmt(a.min)} (${fmt(a.median)}) | ${change >= 0 ? '+' : ''}${change.toFixed(0)}% |`);
}
