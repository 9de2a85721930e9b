#!/usr/bin/env node
// node bench/codec.mjs — the cost of decode() per entry (every event a consumer reads goes through it), on
// entries shaped like real traffic, against the built package (npm run build first). Prints one Markdown
// row per case: the median of several rounds, in nanoseconds per decode. No Redis involved.
//
//   node bench/codec.mjs                # all cases
//   node bench/codec.mjs --rounds 15    # more rounds (default 9), for a quieter median
//   node bench/codec.mjs --package /path/to/other/build/dist/index.js   # another build, to compare
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const packagePath = argValue('--package');
const transport = await import(packagePath ? pathToFileURL(packagePath).href : '@nestream/transport');

const { decode, encode } = transport;
const rounds = Number(argValue('--rounds') ?? 9);
// The codec's own limits when the package has them; before it did, decode() took maxBytes as a number.
const limitsWith = maxBytes => (transport.DEFAULT_DECODE_LIMITS ? { ...transport.DEFAULT_DECODE_LIMITS, maxBytes } : maxBytes);

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

const fields = (data, extra = {}) =>
  encode({ data, correlationId: randomUUID(), ...extra }).map(String);

const replyTo = `nestream:replies:${randomUUID()}`;
const cases = [
  ['bench event (120 B, {i, ts, p})', fields({ i: 49_999, ts: 1769508000123.123, p: 'x'.repeat(70) })],
  ['order, 2 items (~330 B)', fields(order(2))],
  ['order, 20 items (~1.3 KB)', fields(order(20))],
  ['order, 400 items (~24 KB)', fields(order(400))],
  ['request: order + headers, rt, dl', fields(order(2), { headers: { tenant: 'acme', traceparent: '00-abc-def-01' }, replyTo, deadline: Date.now() + 30_000 })],
  ['order, 2 items, maxBytes 1 MiB', fields(order(2)), limitsWith(1 << 20)],
  ['non-ASCII as \\u escapes (Python json.dumps)', ['data', JSON.stringify(order(2)).replace(/Ada/g, 'Ad\\u00e5'), 'cid', randomUUID()]],
  ['text with "__proto__" in a value', fields({ ...order(2), note: 'about __proto__' })],
];

function measure(entry, limits) {
  const run = limits === undefined ? () => decode(entry) : () => decode(entry, limits);
  // Enough iterations for about 50 ms a round.
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) run();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > 50) break;
    n *= 2;
  }
  const perOp = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += run().headers ? 1 : 0;
    perOp.push(Number(process.hrtime.bigint() - t0) / n);
  }
  if (sink < 0) console.log(sink);
  perOp.sort((a, b) => a - b);
  return { median: perOp[Math.floor(perOp.length / 2)], min: perOp[0], max: perOp[perOp.length - 1] };
}

console.log(`decode() per entry of ${packagePath ?? '@nestream/transport'}, node ${process.version}, median of ${rounds} rounds (min-max)\n`);
console.log('| case | entry bytes | ns/decode | min-max |');
console.log('|---|---:|---:|---:|');
for (const [name, entry, limits] of cases) {
  const bytes = entry.reduce((n, f) => n + Buffer.byteLength(f), 0);
  const { median, min, max } = measure(entry, limits);
  console.log(`| ${name} | ${bytes.toLocaleString('en')} | ${Math.round(median).toLocaleString('en')} | ${Math.round(min)}-${Math.round(max)} |`);
}
