#!/usr/bin/env node
// Summarises .cpuprofile files (node --cpu-prof; `npm run bench -- --profile` writes them to
// bench/results/profiles/<run>/): top functions by self time, and time by package.
// Usage: node bench/profile-summary.mjs FILE_OR_DIR [--top 25]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args.splice(topIdx, 2)[1]) : 25;
const files = args.flatMap(a => (statSync(a).isDirectory() ? readdirSync(a).filter(f => f.endsWith('.cpuprofile')).map(f => join(a, f)) : [a]));
if (files.length === 0) {
  console.error('usage: node bench/profile-summary.mjs FILE_OR_DIR [--top N]');
  process.exit(2);
}

function where(url) {
  if (!url) return '(native/vm)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('packages/transport/')) return '@nestream/transport';
  if (url.includes('/bench/')) return 'bench';
  if (url.startsWith('node:')) return 'node:internal';
  return url.replace(/^file:\/\//, '');
}

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map(n => [n.id, n]));
  const self = new Map();
  // Sample i lasted timeDeltas[i+1]; attribute each delta to the sampled node.
  const deltas = p.timeDeltas;
  for (let i = 0; i < p.samples.length; i++) {
    const d = deltas[i + 1] ?? 0;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + d);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const pkgs = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const loc = cf.url ? `${where(cf.url)} ${cf.url.split('/').pop()}:${cf.lineNumber + 1}` : '';
    const key = `${name}  ${loc}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : where(cf.url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const pct = us => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const busy = total - (pkgs.get('(idle)') ?? 0);
  console.log(`\n== ${file}\n   ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle`);
  console.log('\n   self time by package:');
  for (const [k, v] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`   ${pct(v)}  ${k}`);
  console.log(`\n   top ${top} functions by self time:`);
  for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`   ${pct(v)}  ${k}`);
}
