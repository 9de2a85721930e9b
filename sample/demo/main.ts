// `npm run demo`: the sample system on this machine, nothing to install but Node and redis-server. Starts a private
// redis-server (or uses REDIS_URL), an embedded Postgres (or DATABASE_URL) and an SMTP sink, runs the migrations,
// starts every service as its own process (2 mailers, 2 inventories), registers users and places orders over HTTP
// while injecting failures and one SIGKILL, waits until everything settled, prints a summary and checks it.
// Exit code 0 only if every check passed.
//
//   npm run demo                       progress, notable service lines, summary, checks
//   npm run demo -- --quiet            summary and checks only (the service log tail if a check fails)
//   npm run demo -- --verbose          every service line
//   npm run demo -- --orders 500 --users 50
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStreamsBoard, type RunningBoard } from '@nestream/board/standalone';
import { ORDER_PLACED } from '@sample/contracts';
import { WELCOME_CREDIT_CENTS } from '../apps/accounts/src/welcome-credit.js';
import { SmtpSink } from '../tools/smtp-sink.js';
import { checkRun } from './checks.js';
import { forEachConcurrently, postJson } from './http.js';
import { redisServerVersion, runMigrations, SAMPLE_DIST, startEmbeddedPostgres, startRedis, type Started } from './infrastructure.js';
import { Observer } from './observer.js';
import { INJECTED, makePlan, type Plan } from './plan.js';
import type { PlacedOrder, RegisteredUser, RunReport } from './report.js';
import { ServiceLog } from './service-log.js';
import { ServiceProcess, type ServiceSpec } from './service-process.js';
import { printSummary } from './summary.js';
import { bold, clearProgress, elapsed, green, out, progress, red, step } from './terminal.js';

const { values: args } = parseArgs({
  options: {
    quiet: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    users: { type: 'string', default: '200' },
    orders: { type: 'string', default: '3000' },
  },
});
const MODE = args.quiet ? 'quiet' : args.verbose ? 'verbose' : 'normal';
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
/** Requests in flight at once. */
const CONCURRENCY = 32;
/** The SIGKILL of an inventory replica comes when this share of the orders is placed. */
const KILL_AT = 0.4;
/** How long the demo waits for inventory-1 to hold entries before killing it anyway. */
const KILL_WAIT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

/** The injected failures: every 25th mail refused once by the SMTP sink, every 20th new order failing once. */
const SMTP_FAIL_EVERY = 25;
const INVENTORY_FAIL_EVERY = '20';

const SERVICES: ServiceSpec[] = [
  { name: 'users', app: 'users' },
  { name: 'accounts', app: 'accounts' },
  { name: 'mailer-1', app: 'mailer', env: { CONSUMER_NAME: 'mailer-1' } },
  { name: 'mailer-2', app: 'mailer', env: { CONSUMER_NAME: 'mailer-2' } },
  { name: 'orders', app: 'orders' },
  { name: 'inventory-1', app: 'inventory', env: { CONSUMER_NAME: 'inventory-1' } },
  { name: 'inventory-2', app: 'inventory', env: { CONSUMER_NAME: 'inventory-2' } },
];

const tempDir = mkdtempSync(join(tmpdir(), 'nestream-demo-'));
const log = new ServiceLog(join(tempDir, 'services.log'), MODE);
const infrastructure: Started[] = [];
const services: ServiceProcess[] = [];
let sink: SmtpSink | undefined;
let observer: Observer | undefined;
let board: RunningBoard | undefined;

async function main(): Promise<string[]> {
  const plan = makePlan(Number(args.users), Number(args.orders));

  step('Starting Redis, Postgres and the SMTP sink');
  const redisUrl = process.env.REDIS_URL ?? (await privateRedis());
  const databaseUrl = process.env.DATABASE_URL ?? (await embeddedPostgres());
  sink = await SmtpSink.start({ failEvery: SMTP_FAIL_EVERY });
  out(`  Redis     ${redisUrl}${process.env.REDIS_URL ? ' (REDIS_URL)' : ` (private redis-server, data in ${tempDir})`}`);
  out(`  Postgres  ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}${process.env.DATABASE_URL ? ' (DATABASE_URL)' : ' (embedded: PGlite over the wire protocol)'}`);
  out(`  SMTP      ${sink.url} (in-process sink: refuses every ${SMTP_FAIL_EVERY}th mail once, and every mailbox at bounce.example)`);
  // The operator board on the demo's Redis (read-only: the checks count dead letters), open while the demo runs.
  board = await startStreamsBoard({ connection: redisUrl, port: Number(process.env.BOARD_PORT ?? 0), basePath: '/' });
  out(`  Board     ${board.url} (streams, groups, pending lists, dead letters; open it while the demo runs)`);

  step('Running the migrations');
  out(`  ${await runMigrations(databaseUrl)}`);
  observer = Observer.connect(databaseUrl, redisUrl);
  const stockBefore = await observer.stock();
  const eventsBefore = await observer.eventsWritten();
  const startedAt = Date.now();

  step(`Starting the services: ${SERVICES.map(s => s.name).join(', ')}`);
  const env = {
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    SMTP_URL: sink.url,
    INVENTORY_FAIL_EVERY,
    INVENTORY_OFFLINE_WAREHOUSE: 'south',
  };
  for (const spec of SERVICES) services.push(new ServiceProcess(spec, join(SAMPLE_DIST, 'apps', spec.app, 'src/main.js'), env, log));
  await Promise.all(services.map(s => s.start()));
  const service = (name: string) => services.find(s => s.name === name)!;
  out(`  ${services.map(s => `${s.name} :${s.port}`).join('  ')}`);

  step(`Registering ${plan.users.length} users (${INJECTED.bounces} at bounce.example): POST ${service('users').url}/users`);
  const users: RegisteredUser[] = [];
  await forEachConcurrently(plan.users, CONCURRENCY, async user => {
    const created = await postJson<{ id: string }>(`${service('users').url}/users`, { email: user.email, name: user.name });
    users.push({ id: created.id, email: user.email, bounces: user.bounces });
  });
  out(`  ${users.length} registered`);

  step(`Placing ${plan.orders.length} orders: POST ${service('orders').url}/orders; inventory-1 gets a SIGKILL at ${KILL_AT * 100}%`);
  const firstRequestAt = Date.now();
  const { orders, legacyOrderId, kill } = await placeOrders(plan, service('orders'), service('inventory-1'));

  step('Waiting until every order is settled, every mail is in, every consumer group is idle');
  const expectedMails = users.filter(u => !u.bounces).length + orders.length;
  await waitUntilSettled(users, orders, expectedMails);
  clearProgress();

  const orderIds = orders.map(o => o.id);
  const report: RunReport = {
    plan,
    users,
    orders,
    legacyOrderId,
    startedAt,
    firstRequestAt,
    orderStates: await observer.orderStates(orderIds),
    settledAt: await observer.settledAt(orderIds),
    accounts: await observer.accounts(users.map(u => u.id), WELCOME_CREDIT_CENTS),
    outboxBacklog: await observer.outboxBacklog(),
    stockBefore,
    stockAfter: await observer.stock(),
    reservations: await observer.reservations(orderIds),
    sentMails: await observer.sentMails([...users.map(u => `welcome/${u.id}`), ...orders.map(o => `order/${o.id}`)]),
    mailsReceived: sink.received.map(m => ({ to: m.to, subject: m.subject, messageId: m.messageId })),
    smtpTemporaryFailures: sink.temporaryFailures,
    smtpBounces: sink.bounces,
    groups: await observer.groups(),
    deadLetters: await observer.deadLetters(startedAt),
    eventsWritten: (await observer.eventsWritten()) - eventsBefore,
    kill: { ...kill, consumersAfter: (await observer.consumers(ORDER_PLACED, 'inventory')).map(c => c.name).sort() },
    shutdown: [],
  };

  step('Summary');
  printSummary(report);

  step('Stopping the services (SIGTERM: each drains its handlers, then exits)');
  for (const s of services) {
    const exit = await s.stop(STOP_TIMEOUT_MS);
    report.shutdown.push({ name: s.name, exit, stoppedCleanly: s.stoppedCleanly });
  }

  step('Checks');
  const checks = checkRun(report);
  for (const c of checks) out(`  ${c.ok ? green('✔') : red('✘')} ${c.text}`);
  return checks.filter(c => !c.ok).map(c => c.text);
}

/** Places the orders with a live progress line; kills and restarts inventory-1 on the way; writes one invalid event. */
async function placeOrders(
  plan: Plan,
  orders: ServiceProcess,
  victim: ServiceProcess,
): Promise<{ orders: PlacedOrder[]; legacyOrderId: string; kill: { replica: string; pendingAtKill: number } }> {
  const placed: PlacedOrder[] = [];
  const started = Date.now();
  let killing: Promise<number> | undefined;
  const legacyOrderId = `legacy-${plan.tag}`;
  const showProgress = () => {
    const rate = placed.length / ((Date.now() - started) / 1000);
    progress(`placed ${placed.length}/${plan.orders.length}  ${Math.round(rate)} orders/s  mails received ${sink!.received.length}  ${elapsed()}`);
  };
  const ticker = MODE === 'quiet' ? undefined : setInterval(showProgress, process.stdout.isTTY ? 250 : 5000);
  try {
    await forEachConcurrently(plan.orders, CONCURRENCY, async (order, index) => {
      const sentAt = Date.now();
      const body = { customerEmail: order.customerEmail, sku: order.sku, quantity: order.quantity };
      const created = await postJson<{ id: string }>(`${orders.url}/orders`, body);
      placed.push({ id: created.id, customerEmail: order.customerEmail, sentAt, poison: order.poison });
      if (!killing && placed.length >= plan.orders.length * KILL_AT) {
        killing = killAndRestart(victim);
        killing.catch(() => undefined); // awaited (and thrown) after the traffic; not an unhandled rejection meanwhile
      }
      if (index === Math.floor(plan.orders.length / 2)) await writeLegacyEvent(legacyOrderId);
    });
  } finally {
    clearInterval(ticker);
  }
  const pendingAtKill = await (killing ?? killAndRestart(victim));
  clearProgress();
  out(`  ${placed.length} placed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { orders: placed, legacyOrderId, kill: { replica: victim.name, pendingAtKill } };
}

/**
 * SIGKILL while it holds entries (waits up to KILL_WAIT_MS for that), counts what the dead consumer left pending,
 * starts it again under the same consumer name: it takes those entries back at once.
 */
async function killAndRestart(victim: ServiceProcess): Promise<number> {
  const deadline = Date.now() + KILL_WAIT_MS;
  while (Date.now() < deadline) {
    const mine = (await observer!.consumers(ORDER_PLACED, 'inventory')).find(c => c.name === victim.name);
    if ((mine?.pending ?? 0) > 0) break;
    await new Promise(resolve => setTimeout(resolve, 5));
  }
  await victim.kill();
  const consumers = await observer!.consumers(ORDER_PLACED, 'inventory');
  const pending = consumers.find(c => c.name === victim.name)?.pending ?? 0;
  out(`  ${bold('SIGKILL')} ${victim.name}: ${pending} order entries pending with it; starting it again as consumer "${victim.name}"`);
  await victim.start();
  out(`  ${victim.name} is back (:${victim.port})`);
  return pending;
}

/** A producer outside Nest that skips validation: `XADD order.placed * data {...}` with an invalid order. */
async function writeLegacyEvent(orderId: string): Promise<void> {
  const event = { orderId, customerEmail: 'legacy@example.com', sku: 'widget', quantity: 0, placedAt: new Date().toISOString() };
  await observer!.redis.xadd(ORDER_PLACED, '*', 'data', JSON.stringify(event));
}

async function waitUntilSettled(users: RegisteredUser[], orders: PlacedOrder[], expectedMails: number): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const orderIds = orders.map(o => o.id);
  const userIds = users.map(u => u.id);
  for (;;) {
    const states = await observer!.orderStates(orderIds);
    const open = states.placed ?? 0;
    const accounts = (await observer!.accounts(userIds, WELCOME_CREDIT_CENTS)).opened;
    const groups = await observer!.groups();
    const busy = groups.filter(g => !g.idle).length;
    const backlog = await observer!.outboxBacklog();
    const mails = sink!.received.length;
    if (MODE !== 'quiet') {
      progress(`orders not settled ${open}  mails ${mails}/${expectedMails}  accounts ${accounts}/${users.length}  busy groups ${busy}  outbox ${backlog}  ${elapsed()}`);
    }
    if (open === 0 && mails >= expectedMails && accounts === users.length && busy === 0 && backlog === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `not settled after ${SETTLE_TIMEOUT_MS / 1000} s: ${open} orders open, ${mails}/${expectedMails} mails, ${accounts}/${users.length} accounts, ${busy} busy groups, ${backlog} in outboxes`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

async function privateRedis(): Promise<string> {
  const version = redisServerVersion(REDIS_SERVER);
  if (!version) {
    out(red(`The demo needs "${REDIS_SERVER}" on the PATH, and it was not found.`));
    out('Install Redis (any version >= 6.2), then run `npm run demo` again:');
    out('  Debian/Ubuntu:  sudo apt-get install redis-server');
    out('  macOS:          brew install redis');
    out('Or point REDIS_SERVER at a redis-server binary, or REDIS_URL at a Redis to use.');
    process.exit(1);
  }
  const redis = await startRedis(REDIS_SERVER, tempDir);
  infrastructure.push(redis);
  return redis.url;
}

async function embeddedPostgres(): Promise<string> {
  const postgres = await startEmbeddedPostgres();
  infrastructure.push(postgres);
  return postgres.url;
}

async function cleanup(): Promise<void> {
  await Promise.all(services.map(s => s.stop(STOP_TIMEOUT_MS).catch(() => undefined)));
  await observer?.close().catch(() => undefined);
  await board?.close().catch(() => undefined);
  await sink?.stop().catch(() => undefined);
  for (const started of infrastructure.reverse()) await started.stop().catch(() => undefined);
  await log.close();
}

// A crash of the demo itself must not leave processes behind.
process.on('exit', () => {
  for (const s of services) s.killNow();
  for (const started of infrastructure) started.killNow();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    out(red(`\n${signal}: stopping everything`));
    void cleanup().finally(() => {
      rmSync(tempDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

let failures: string[];
try {
  failures = await main();
} catch (err) {
  clearProgress();
  failures = [(err as Error).message ?? String(err)];
  out(red(`\n✘ ${(err as Error).stack ?? err}`));
}
await cleanup();
if (failures.length === 0) {
  rmSync(tempDir, { recursive: true, force: true });
  out(green(bold(`\n✔ Demo passed in ${elapsed()}`)));
  process.exit(0);
}
if (MODE === 'quiet') {
  out('\nLast service log lines:');
  for (const line of log.lastLines()) out(`  ${line}`);
}
out(`\nEvery service line: ${log.path}`);
out(red(bold(`\n✘ Demo failed in ${elapsed()}: ${failures.join('; ')}`)));
process.exit(1);
