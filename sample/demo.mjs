#!/usr/bin/env node
// `npm run demo`: starts a private redis-server, the three sample services, places 20 orders over HTTP,
// waits until every order is settled (reserved, rejected or dead-lettered) and every consumer group has
// nothing pending, prints a summary, stops everything. Exit code 0 only if every check passed.
//
//   node sample/demo.mjs            service logs + summary
//   node sample/demo.mjs --quiet    summary only (service logs are printed if something fails)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DEAD_LETTER_FIELDS, decode } from '@nestream/transport';

const HERE = dirname(fileURLToPath(import.meta.url));
const QUIET = process.argv.includes('--quiet');
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const STARTUP_TIMEOUT_MS = 15_000;
const PROCESSING_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 50;

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = t => paint('1', t);
const dim = t => paint('2', t);
const green = t => paint('32', t);
const red = t => paint('31', t);
const yellow = t => paint('33', t);

/**
 * The orders the demo places: 20 orders for 3 SKUs. Stock is 12 widgets and 5 gadgets, so some orders
 * are rejected; gizmos live in the "south" warehouse, which the demo takes offline (max-attempts dead
 * letter); an unknown SKU and a zero quantity are invalid (unrecoverable dead letters).
 */
const ORDERS = [
  ['ann', 'widget', 2], ['bob', 'gadget', 1], ['cyd', 'widget', 3], ['dee', 'widget', 1], ['eve', 'gadget', 2],
  ['fay', 'sprocket', 1], ['gus', 'widget', 2], ['hal', 'widget', 4], ['ivy', 'gizmo', 1], ['jon', 'gadget', 1],
  ['kim', 'widget', 1], ['lou', 'widget', 0], ['max', 'gadget', 3], ['ned', 'widget', 2], ['oli', 'widget', 1],
  ['pat', 'gadget', 1], ['quy', 'widget', 1], ['ray', 'widget', 2], ['sue', 'gadget', 1], ['tom', 'widget', 1],
].map(([customer, sku, quantity]) => ({ customer, sku, quantity }));
/** What the inventory is expected to dead-letter, by customer, and why. */
const EXPECTED_DEAD_LETTERS = { fay: 'unrecoverable', lou: 'unrecoverable', ivy: 'max-attempts' };

const SERVICES = [
  { name: 'orders', file: 'services/order-service.mjs', env: { PORT: '0' } },
  { name: 'inventory', file: 'services/inventory-service.mjs', env: { OFFLINE_WAREHOUSE: 'south', FAIL_EVERY: '4' } },
  { name: 'notification', file: 'services/notification-service.mjs', env: {} },
];
/** The streams, and the consumer groups that read each. */
const GROUPS = {
  'orders.created': ['inventory'],
  'inventory.reserved': ['notification', 'orders'],
  'inventory.rejected': ['notification', 'orders'],
};
const DLQ = 'orders.created:dlq';

const started = Date.now();
const logLines = [];
const children = [];
let redisProc;
let redis;
let tempDir;

function out(line = '') {
  process.stdout.write(line + '\n');
}

function step(text) {
  out(bold(`\n▶ ${text}`) + dim(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`));
}

/** Polls `check` until it returns a truthy value (no fixed sleeps as synchronisation). */
async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// --- Redis --------------------------------------------------------------------------------------

function checkRedisInstalled() {
  const probe = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  if (probe.error?.code === 'ENOENT') {
    out(red(`The demo needs "${REDIS_SERVER}" on the PATH, and it was not found.`));
    out('Install Redis (any version >= 7), then run `npm run demo` again:');
    out('  Debian/Ubuntu:  sudo apt-get install redis-server');
    out('  macOS:          brew install redis');
    out('  elsewhere:      https://redis.io/docs/latest/operate/oss_and_stack/install/');
    out('Or point REDIS_SERVER at a redis-server binary.');
    process.exit(1);
  }
  if (probe.error || probe.status !== 0) throw new Error(`"${REDIS_SERVER} --version" failed: ${probe.error?.message ?? probe.stderr}`);
  return probe.stdout.match(/v=(\S+)/)?.[1] ?? 'unknown version';
}

async function startRedis() {
  const port = await freePort();
  tempDir = mkdtempSync(join(tmpdir(), 'nestream-demo-'));
  redisProc = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', tempDir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output}`)), STARTUP_TIMEOUT_MS);
    const onData = chunk => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        redisProc.stdout.off('data', onData);
        redisProc.stdout.resume();
        resolve();
      }
    };
    redisProc.stdout.on('data', onData);
    redisProc.stderr.on('data', chunk => (output += chunk));
    redisProc.once('error', reject);
    redisProc.once('exit', code => reject(new Error(`redis-server exited with code ${code}:\n${output}`)));
  });
  return port;
}

// --- Services -----------------------------------------------------------------------------------

function startService(service, redisUrl) {
  const child = spawn(process.execPath, [join(HERE, service.file)], {
    env: { ...process.env, REDIS_URL: redisUrl, METRICS_PORT: '0', ...service.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const entry = { ...service, child, exit: undefined };
  entry.exited = new Promise(resolve => child.once('exit', (code, signal) => resolve((entry.exit = { code, signal }))));
  const prefix = service.name.padEnd(12);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', line => {
      const text = `  ${dim(prefix + '│')} ${line}`;
      logLines.push(`  ${prefix}│ ${line}`);
      if (!QUIET) out(/\b(ERROR|WARN)\b/.test(line) ? text.replace(line, yellow(line)) : text);
    });
  }
  entry.ready = new Promise((resolve, reject) => {
    child.on('message', message => message?.type === 'ready' && resolve(message));
    child.once('exit', code => reject(new Error(`service "${service.name}" exited during start-up (code ${code})`)));
  });
  children.push(entry);
  return entry;
}

async function stopServices() {
  return Promise.all(
    children.map(async entry => {
      if (entry.exit) return entry.exit;
      entry.child.kill('SIGTERM');
      const timer = setTimeout(() => entry.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const exit = await entry.exited;
      clearTimeout(timer);
      return exit;
    }),
  );
}

// --- Reading the state ----------------------------------------------------------------------------

async function scrape(entry) {
  const res = await fetch(`http://127.0.0.1:${entry.info.metricsPort}/metrics`);
  return res.text();
}

/** Sum of a metric's samples whose labels include `labels`. */
function metric(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(x => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

function pairs(flat) {
  const obj = {};
  for (let i = 0; i + 1 < flat.length; i += 2) obj[flat[i]] = flat[i + 1];
  return obj;
}

/** The dead-letter stream: each entry keeps the original fields and adds the `dlq.*` ones. */
async function readDeadLetters() {
  const entries = await redis.xrange(DLQ, '-', '+');
  const f = DEAD_LETTER_FIELDS;
  return entries.map(([id, fields]) => {
    const all = pairs(fields);
    return {
      id,
      order: decode(fields).data,
      sourceId: all[f.id],
      reason: all[f.reason],
      attempts: Number(all[f.attempts]),
      error: `${all[f.errorName]}: ${all[f.errorMessage]}`,
    };
  });
}

/** XINFO GROUPS of every stream, as rows { stream, group, pending, lag, idle }. */
async function readGroups() {
  const rows = [];
  for (const stream of Object.keys(GROUPS)) {
    const info = pairs(await redis.xinfo('STREAM', stream));
    for (const raw of await redis.xinfo('GROUPS', stream)) {
      const g = pairs(raw);
      // lag is null when Redis cannot compute it (after deletions), and absent before Redis 7: compare the ids then.
      const caughtUp = g.lag === 0 || (g.lag == null && g['last-delivered-id'] === info['last-generated-id']);
      rows.push({ stream, group: g.name, pending: g.pending, lag: g.lag, consumers: g.consumers, idle: g.pending === 0 && caughtUp });
    }
  }
  return rows;
}

// --- The run ------------------------------------------------------------------------------------

async function main() {
  const failures = [];
  const check = (ok, text) => {
    if (!ok) failures.push(text);
    out(`  ${ok ? green('✔') : red('✘')} ${text}`);
  };

  const version = checkRedisInstalled();
  step(`Starting redis-server ${version}`);
  const port = await startRedis();
  const redisUrl = `redis://127.0.0.1:${port}`;
  out(`  ${redisUrl}  (data dir ${tempDir})`);
  redis = new Redis(redisUrl);
  redis.on('error', () => undefined);

  step('Starting the services (orders, inventory, notification)');
  const [orders, inventory, notification] = SERVICES.map(s => startService(s, redisUrl));
  const infos = await Promise.race([
    Promise.all(children.map(c => c.ready)),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`services not ready within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS).unref()),
  ]);
  children.forEach((c, i) => (c.info = infos[i]));
  const ordersUrl = `http://127.0.0.1:${orders.info.httpPort}`;
  await waitFor('the services to be connected to Redis', async () => {
    const states = await Promise.all(children.map(c => fetch(`http://127.0.0.1:${c.info.metricsPort}/health`).then(r => r.ok)));
    return states.every(Boolean);
  }, STARTUP_TIMEOUT_MS);

  step(`Placing ${ORDERS.length} orders: POST ${ordersUrl}/orders`);
  const placed = [];
  for (const order of ORDERS) {
    const res = await fetch(`${ordersUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${await res.text()}`);
    placed.push(await res.json());
  }

  step('Waiting until every order is settled and every consumer group is idle');
  const state = await waitFor('every order to be reserved, rejected or dead-lettered', async () => {
    const list = await (await fetch(`${ordersUrl}/orders`)).json();
    const deadLetters = await readDeadLetters();
    const dead = new Set(deadLetters.map(d => d.order?.orderId));
    const unsettled = list.orders.filter(o => o.status === 'placed' && !dead.has(o.orderId));
    const groups = await readGroups();
    const [inv, notify] = await Promise.all([scrape(inventory), scrape(notification)]);
    const decided = list.orders.filter(o => o.status !== 'placed').length;
    const done =
      unsettled.length === 0 &&
      groups.length === 5 && groups.every(g => g.idle) &&
      metric(inv, 'nestream_scheduled_retries') === 0 &&
      metric(notify, 'sample_notifications_sent_total') >= decided;
    return done && { list, deadLetters, groups, inv, notify };
  }, PROCESSING_TIMEOUT_MS);

  const { list, deadLetters, groups, inv, notify } = state;
  const count = status => list.orders.filter(o => o.status === status).length;
  const retries = metric(inv, 'nestream_handler_failures_total', { next: 'retry' });
  const sent = metric(notify, 'sample_notifications_sent_total');

  step('Summary');
  out(`  orders placed              ${placed.length}`);
  out(`  reserved / rejected        ${count('reserved')} / ${count('rejected')}   (inventory decisions: ${metric(inv, 'sample_inventory_decisions_total')})`);
  out(`  notifications sent         ${sent}`);
  out(`  retries seen               ${retries}   (failed attempts that the transport retried after a backoff)`);
  out(`  dead letters               ${deadLetters.length}   (entries of ${DLQ})`);
  for (const d of deadLetters) {
    out(`    ${d.order?.orderId ?? '?'} (${d.order?.customer}, ${JSON.stringify(d.order?.quantity)} x ${JSON.stringify(d.order?.sku)})`);
    out(`      dlq.reason=${d.reason}  dlq.attempts=${d.attempts}  dlq.id=${d.sourceId}`);
    out(`      ${dim(d.error)}`);
  }
  out('  consumer groups (XINFO GROUPS)');
  for (const g of groups) {
    out(`    ${g.stream.padEnd(20)} group ${g.group.padEnd(13)} pending ${g.pending}  lag ${g.lag}  consumers ${g.consumers}`);
  }

  step('Checks');
  check(placed.length === ORDERS.length, `all ${ORDERS.length} orders accepted (HTTP 201)`);
  const wrongDeadLetters = deadLetters.filter(d => EXPECTED_DEAD_LETTERS[d.order?.customer] !== d.reason);
  check(
    deadLetters.length === Object.keys(EXPECTED_DEAD_LETTERS).length && wrongDeadLetters.length === 0,
    `dead letters are exactly the invalid orders (reason unrecoverable) and the offline-warehouse one (reason max-attempts)`,
  );
  check(count('placed') === deadLetters.length, `every other order was reserved or rejected (${count('reserved') + count('rejected')})`);
  check(sent === count('reserved') + count('rejected'), `one notification per reserved or rejected order (${sent})`);
  check(retries > 0, `transient failures were retried (${retries} retries)`);
  check(groups.every(g => g.pending === 0), 'XINFO GROUPS: pending = 0 in every group');

  step('Stopping the services (SIGTERM: each drains its handlers, then exits)');
  const exits = await stopServices();
  exits.forEach((e, i) => check(e.code === 0, `${children[i].name} exited with code ${e.code}${e.signal ? ` (${e.signal})` : ''}`));
  return failures;
}

async function cleanup() {
  await stopServices().catch(() => undefined);
  redis?.disconnect();
  if (redisProc && redisProc.exitCode === null) {
    const exited = new Promise(resolve => redisProc.once('exit', resolve));
    redisProc.kill('SIGTERM');
    await exited;
  }
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}

// A crash of the demo itself must not leave processes behind.
process.on('exit', () => {
  for (const c of children) if (!c.exit) c.child.kill('SIGKILL');
  if (redisProc && redisProc.exitCode === null) redisProc.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    out(red(`\n${signal}: stopping`));
    cleanup().finally(() => process.exit(130));
  });
}

let failures;
try {
  failures = await main();
} catch (err) {
  failures = [err?.message ?? String(err)];
  out(red(`\n✘ ${err?.stack ?? err}`));
}
await cleanup();
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length === 0) {
  out(green(bold(`\n✔ Demo passed in ${seconds} s`)));
  process.exit(0);
}
if (QUIET && logLines.length > 0) {
  out('\nService logs:');
  for (const line of logLines) out(line);
}
out(red(bold(`\n✘ Demo failed in ${seconds} s: ${failures.join('; ')}`)));
process.exit(1);
