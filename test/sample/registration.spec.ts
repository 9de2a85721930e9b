import { randomBytes } from 'node:crypto';
import { SmtpSink } from '../../sample/tools/smtp-sink.js';
import { startRedis, type TestRedis } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait.js';
import { embeddedPostgres, machinePostgres, post, SampleServices, type TestDatabase } from './sample-system.js';

/**
 * User registration end to end, with every part real: the users, accounts and mailer services as processes, a
 * redis-server, Postgres, and an SMTP server that refuses every other mail once (so the mailer's retries show) and
 * the mailboxes of bounce.example for good.
 */
describe.each([
  ["the machine's Postgres (127.0.0.1:5432)", machinePostgres],
  ['the embedded Postgres (PGlite over the wire protocol)', embeddedPostgres],
])('registration on %s', (_name, createDatabase) => {
  let redis: TestRedis;
  let database: TestDatabase;
  let smtp: SmtpSink;
  let services: SampleServices;
  let usersUrl: string;
  let mailerUrl: string;

  beforeAll(async () => {
    redis = await startRedis();
    smtp = await SmtpSink.start({ failEvery: 2 });
    database = await createDatabase();
    services = new SampleServices({ REDIS_URL: redis.url, DATABASE_URL: database.url, SMTP_URL: smtp.url });
    const [users, , mailer] = await services.start({ name: 'users', app: 'users' }, { name: 'accounts', app: 'accounts' }, { name: 'mailer', app: 'mailer' });
    usersUrl = `${users!.url}/users`;
    mailerUrl = mailer!.url;
  }, 60_000);

  afterAll(async () => {
    await services?.stop();
    await Promise.all([smtp?.stop(), database?.drop(), redis?.stop()]);
  });

  const tag = () => randomBytes(3).toString('hex');
  const pendingOf = async (group: string) => ((await redis.client().xpending('user.registered', group)) as [number])[0];

  it('stores each user, opens exactly one account and sends exactly one welcome e-mail, retrying what the SMTP server refused', async () => {
    const emails = Array.from({ length: 6 }, (_, i) => `user${i}-${tag()}@example.com`);
    const ids: string[] = [];
    for (const email of emails) {
      const { status, body } = await post<{ id: string; email: string }>(usersUrl, { email, name: `User ${email.slice(4, 5)}` });
      expect(status).toBe(201);
      expect(body.email).toBe(email);
      ids.push(body.id);
    }

    await waitFor(() => emails.every(e => smtp.mailsTo(e).length > 0), 'a welcome e-mail to each user');
    await waitFor(async () => (await pendingOf('mailer')) === 0 && (await pendingOf('accounts')) === 0, 'both groups to have nothing pending');

    for (const email of emails) {
      const mails = smtp.mailsTo(email);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toMatch(/^Welcome, User \d!$/);
    }
    const accounts = await database.pool.query('SELECT user_id, credit_cents FROM accounts.accounts WHERE user_id = ANY($1::uuid[])', [ids]);
    expect(accounts.rows).toHaveLength(ids.length);
    expect(accounts.rows.every(r => r.credit_cents === 500)).toBe(true);
    // The SMTP server refused every other mail once; those were sent on a later delivery of their entry.
    expect(smtp.temporaryFailures).toBeGreaterThan(0);
    const retried = await database.pool.query("SELECT count(*)::int AS n FROM mailer.sent_mails WHERE attempt > 1 AND key = ANY($1::text[])", [ids.map(id => `welcome/${id}`)]);
    expect(retried.rows[0].n).toBeGreaterThan(0);
    const outbox = await database.pool.query('SELECT count(*)::int AS n FROM users.outbox');
    expect(outbox.rows[0].n).toBe(0);
  });

  it('dead-letters the welcome e-mail of a mailbox the SMTP server refuses for good, after one attempt; the account is opened all the same', async () => {
    const email = `nobody-${tag()}@bounce.example`;
    const { status, body } = await post<{ id: string }>(usersUrl, { email, name: 'Nobody' });
    expect(status).toBe(201);

    const letters = async () => (await redis.client().xrange('user.registered:dlq', '-', '+')).filter(([, f]) => f.join(' ').includes(email));
    await waitFor(async () => (await letters()).length > 0, 'the dead letter');
    const fields = Object.fromEntries(chunk((await letters())[0]![1]));
    expect(fields['dlq.reason']).toBe('unrecoverable');
    expect(fields['dlq.attempts']).toBe('1');
    expect(fields['dlq.group']).toBe('mailer');
    expect(fields['dlq.error.message']).toContain('550');
    expect(smtp.mailsTo(email)).toHaveLength(0);

    await waitFor(async () => (await database.pool.query('SELECT 1 FROM accounts.accounts WHERE user_id = $1', [body.id])).rowCount === 1, 'the account');
  });

  it('refuses an invalid body (400) and an e-mail already registered (409), and publishes nothing for them', async () => {
    const before = await redis.client().xlen('user.registered');
    const email = `twice-${tag()}@example.com`;
    expect((await post(usersUrl, { email, name: 'Once' })).status).toBe(201);
    const again = await post<{ message: string }>(usersUrl, { email, name: 'Twice' });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('already registered');
    const invalid = await post<{ message: string }>(usersUrl, { email: 'not-an-address', name: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toContain('email must be an email');

    await waitFor(async () => (await database.pool.query('SELECT count(*)::int AS n FROM users.outbox')).rows[0].n === 0, 'the outbox to be drained');
    expect(await redis.client().xlen('user.registered')).toBe(before + 1);
  });

  it('answers /health (Postgres and the consumer up) and /metrics (prom-client\'s default registry) on the HTTP side of a consumer', async () => {
    const health = await fetch(`${mailerUrl}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; details: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(body.details.database!.status).toBe('up');
    expect(body.details.streams!.status).toBe('up');
    const metrics = await fetch(`${mailerUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    // The transport's own metrics (metrics: true): the welcome mail of the user registered above was handled.
    expect(text).toMatch(/^nestream_messages_processed_total\{stream="user\.registered",group="mailer",outcome="success"\} [1-9]/m);
  });
});

function chunk(flat: string[]): Array<[string, string]> {
  return Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);
}
