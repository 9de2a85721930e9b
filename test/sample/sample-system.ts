import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrations, SAMPLE_DIST, startEmbeddedPostgres } from '../../sample/demo/infrastructure.js';
import { ServiceLog } from '../../sample/demo/service-log.js';
import { ServiceProcess, type ServiceSpec } from '../../sample/demo/service-process.js';

/** A database the sample's migrations ran on, and how to drop it. */
export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** The machine's Postgres (127.0.0.1:5432, trust auth) that the tests may use; PGTEST_URL overrides it. */
const MACHINE_POSTGRES = process.env.PGTEST_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** A new database `nestream_sample_<random>` on the machine's Postgres, migrated; dropped by drop(). */
export async function machinePostgres(): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: MACHINE_POSTGRES });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`these tests need the machine's Postgres at ${MACHINE_POSTGRES} (trust auth): ${(err as Error).message}`);
  }
  const name = `nestream_sample_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(MACHINE_POSTGRES);
  url.pathname = `/${name}`;
  return migrated(url.toString(), async () => {
    const dropper = new pg.Client({ connectionString: MACHINE_POSTGRES });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  });
}

/** The embedded Postgres (PGlite over the wire protocol) in its own process, migrated; stopped by drop(). */
export async function embeddedPostgres(): Promise<TestDatabase> {
  const postgres = await startEmbeddedPostgres();
  return migrated(postgres.url, () => postgres.stop());
}

async function migrated(url: string, dispose: () => Promise<void>): Promise<TestDatabase> {
  try {
    await runMigrations(url);
  } catch (err) {
    await dispose();
    throw err;
  }
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() resolves before Postgres has seen its clients go; DROP DATABASE ... WITH (FORCE) may then end one
  // of them, whose error the ended pool would re-emit as an unhandled 'error' event.
  pool.on('error', () => undefined);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await dispose();
    },
  };
}

/** Sample services started as the demo starts them (`node sample/dist/apps/<app>/src/main.js`), logs kept in a temp dir. */
export class SampleServices {
  private readonly dir = mkdtempSync(join(tmpdir(), 'nestream-sample-test-'));
  private readonly log = new ServiceLog(join(this.dir, 'services.log'), process.env.NESTREAM_TEST_LOG ? 'verbose' : 'quiet');
  private readonly started: ServiceProcess[] = [];

  constructor(private readonly env: Record<string, string>) {}

  async start(...specs: ServiceSpec[]): Promise<ServiceProcess[]> {
    const services = specs.map(spec => new ServiceProcess(spec, join(SAMPLE_DIST, 'apps', spec.app, 'src/main.js'), this.env, this.log));
    this.started.push(...services);
    await Promise.all(services.map(s => s.start()));
    return services;
  }

  /** Lines a service printed so far. */
  lines(service: string): string[] {
    return this.log.lastLines().filter(line => line.startsWith(`${service.padEnd(12)}│`));
  }

  /** Stops every service (SIGTERM), then removes the logs. */
  async stop(): Promise<void> {
    await Promise.all(this.started.map(s => s.stop(15_000)));
    await this.log.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** POSTs JSON to a service; resolves with the status and the parsed body. */
export async function post<T = Record<string, unknown>>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}
