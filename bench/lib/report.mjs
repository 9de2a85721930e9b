// Text output: the results table, the machine, and the targets of the "Performance" issue.
import { fmtInt } from './runner.mjs';

const f2 = v => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(2));
const f1 = v => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(1));
const f0 = v => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(0));

export function resultsTable(results) {
  const head = ['#', 'run', 'system', 'N', 'ev bytes', 'consumers', 'time s', 'ev/s', 'runs: ev/s min-max', 'x raw', 'producer ev/s', 'p50 ms', 'p99 ms', 'max ms', 'lost', 'dup', 'pending', 'peak RSS MB', 'CPU µs/ev prod/cons/redis', 'other+steal CPU s'];
  const rows = results.map(r => [
    String(r.idx),
    r.group,
    r.system,
    fmtInt(r.n),
    String(r.eventBytes),
    r.groups > 1 ? `${r.groups} groups x ${r.consumersPerGroup}` : String(r.consumersPerGroup),
    r.error ? 'ERROR' : f2(r.elapsedMs / 1000),
    r.error ? r.error.slice(0, 60) : fmtInt(r.evPerSec),
    spread(r),
    r.ratioToRaw == null ? '-' : `${r.ratioToRaw.toFixed(2)}x`,
    fmtInt(r.producerEvPerSec),
    f2(r.p50Ms),
    f2(r.p99Ms),
    f1(r.maxMs),
    r.error ? '-' : String(r.lost) + (r.complete ? '' : '!'),
    r.error ? '-' : String(r.duplicated),
    r.pending == null ? 'n/a' : String(r.pending),
    f0(r.peakRssMB),
    r.error ? '-' : `${f1(r.producerCpuUsPerEvent)} / ${f1(r.consumerCpuUsPerEvent)} / ${f1(r.redisCpuUsPerEvent)}`,
    r.cpu?.otherMs == null ? '-' : `${((r.cpu.otherMs + (r.cpu.stealMs ?? 0)) / 1000).toFixed(1)}${r.disturbed ? '!' : ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = cells => `| ${cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i >= 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(head), sep, ...rows.map(line)].join('\n');
}

/** How far the repeats of a run spread: "3: 41,000-45,000" (ev/s), or the p99 range of a latency run. */
function spread(r) {
  const ok = (r.repeats ?? []).filter(x => !x.error);
  if (ok.length < 2) return '-';
  const latency = r.mode === 'rate';
  const vals = ok.map(x => (latency ? x.p99Ms : x.evPerSec));
  const range = latency
    ? `p99 ${f2(Math.min(...vals))}-${f2(Math.max(...vals))} ms`
    : `${fmtInt(Math.min(...vals))}-${fmtInt(Math.max(...vals))}`;
  return `${ok.length}: ${range}${r.failedRepeats ? ` (${r.failedRepeats} failed)` : ''}`;
}

export function machineText(m) {
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores; memory ${m.memoryGiB} GiB; ${m.os}`,
    `- Node ${m.node}; Redis ${m.redis} (same machine, loopback)`,
    `- ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...(m.git ? [`- commit ${m.git.commit.slice(0, 12)}${m.git.transportSourceModified ? ' (packages/transport had uncommitted changes)' : ''}`] : []),
  ].join('\n');
}

/** The targets of the issue, each met / not met / not measured. */
export function targets(results) {
  const get = (group, system) => results.find(r => r.group === group && r.system === system && !r.error);
  const out = [];
  const check = (name, ok, detail) => out.push({ name, status: ok === undefined ? 'not measured' : ok ? 'met' : 'NOT MET', detail });
  const burst = get('burst', 'transport');
  const nest = get('burst', 'nest-redis');
  const bulk = get('burst', 'transport-bulk');
  const lat = get('latency', 'transport');
  const mem = get('memory-backlog', 'transport');
  const c1 = get('consumers-1', 'transport');
  const c2 = get('consumers-2', 'transport');
  const b1 = get('consumers-1', 'transport-bulk');
  const b2 = get('consumers-2', 'transport-bulk');
  check(
    'transport default burst >= 0.50x raw ioredis',
    burst?.ratioToRaw == null ? undefined : burst.ratioToRaw >= 0.5,
    burst?.ratioToRaw == null ? '' : `${burst.ratioToRaw.toFixed(2)}x (${fmtInt(burst.evPerSec)} ev/s)`,
  );
  check(
    'transport default burst not below Nest Redis pub/sub',
    burst && nest ? burst.evPerSec >= nest.evPerSec : undefined,
    burst && nest ? `${fmtInt(burst.evPerSec)} vs ${fmtInt(nest.evPerSec)} ev/s (pub/sub lost ${nest.lost})` : '',
  );
  check(
    'transport with emitMany burst >= 0.80x raw ioredis',
    bulk?.ratioToRaw == null ? undefined : bulk.ratioToRaw >= 0.8,
    bulk?.ratioToRaw == null ? '' : `${bulk.ratioToRaw.toFixed(2)}x (${fmtInt(bulk.evPerSec)} ev/s)`,
  );
  check(
    'transport default p99 <= 5 ms at the fixed rate',
    lat?.p99Ms == null ? undefined : lat.p99Ms <= 5,
    lat?.p99Ms == null ? '' : `p50 ${f2(lat.p50Ms)} ms, p99 ${f2(lat.p99Ms)} ms, max ${f1(lat.maxMs)} ms`,
  );
  check(
    'transport default consumer peak RSS <= 150 MB on the backlog',
    mem ? mem.peakRssMB <= 150 : undefined,
    mem ? `${f0(mem.peakRssMB)} MB peak (VmHWM ${f0(mem.vmHwmMB)} MB, ${fmtInt(mem.n)} entries)` : '',
  );
  check(
    '2 consumer processes not slower than 1 draining a backlog (transport default, per-event handler)',
    c1 && c2 ? c2.evPerSec >= c1.evPerSec : undefined,
    c1 && c2 ? `${fmtInt(c2.evPerSec)} vs ${fmtInt(c1.evPerSec)} ev/s` : '',
  );
  check(
    '2 consumer processes not slower than 1 draining a backlog (transport default, batch handler)',
    b1 && b2 ? b2.evPerSec >= b1.evPerSec : undefined,
    b1 && b2 ? `${fmtInt(b2.evPerSec)} vs ${fmtInt(b1.evPerSec)} ev/s` : '',
  );
  // Metrics on against off: throughput of the median runs decides; the median over the repeats of the CPU the
  // producer and the consumer spent per event is shown too, as it moves less on a shared machine.
  const metrics = get('burst', 'transport-metrics');
  const cpuOf = r => medianOf((r.repeats ?? [r]).filter(x => !x.error).map(x => x.producerCpuUsPerEvent + x.consumerCpuUsPerEvent));
  const pct = (a, b) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`;
  check(
    'metrics on (client and server): emit burst at most 5% slower than metrics off',
    burst && metrics ? metrics.evPerSec >= 0.95 * burst.evPerSec : undefined,
    burst && metrics
      ? `${fmtInt(metrics.evPerSec)} vs ${fmtInt(burst.evPerSec)} ev/s (${pct(metrics.evPerSec, burst.evPerSec)}); ` +
          `producer+consumer CPU ${f1(cpuOf(metrics))} vs ${f1(cpuOf(burst))} µs/ev (${pct(cpuOf(metrics), cpuOf(burst))}, median of the repeats)`
      : '',
  );
  const bad = results.filter(r => !r.error && r.system !== 'nest-redis' && (r.lost > 0 || r.duplicated > 0 || r.pending > 0));
  check(
    'no lost, duplicated or unacked event (every system but pub/sub)',
    results.length ? bad.length === 0 : undefined,
    bad.map(r => `#${r.idx} ${r.group} ${r.system}: lost ${r.lost}, dup ${r.duplicated}, pending ${r.pending}`).join('; '),
  );
  return out;
}

function medianOf(values) {
  const sorted = values.filter(v => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : NaN;
}

export function targetsText(list) {
  return list.map(t => `- ${t.status.padEnd(12)} ${t.name}${t.detail ? `: ${t.detail}` : ''}`).join('\n');
}
