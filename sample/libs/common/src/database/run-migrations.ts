import { DataSource, type MigrationInterface } from 'typeorm';

export interface ServiceMigrations {
  /** The schema the service owns (created if missing); its `migrations` table records what ran. */
  schema: string;
  migrations: Array<new () => MigrationInterface>;
}

/**
 * Runs each service's pending migrations, one transaction per migration. Run once per deploy, before the services
 * start (`node sample/dist/tools/migrate.js`, the `migrate` service of docker-compose.yml): replicas starting
 * together would otherwise race to create the same tables. Returns the names of the migrations that ran.
 */
export async function runMigrations(databaseUrl: string, services: ServiceMigrations[]): Promise<string[]> {
  const ran: string[] = [];
  for (const { schema, migrations } of services) {
    const dataSource = new DataSource({ type: 'postgres', url: databaseUrl, schema, migrations, extra: { max: 1 } });
    await dataSource.initialize();
    try {
      await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const done = await dataSource.runMigrations({ transaction: 'each' });
      ran.push(...done.map(m => `${schema}: ${m.name}`));
    } finally {
      await dataSource.destroy();
    }
  }
  return ran;
}
