// Runs every sample service's pending migrations against DATABASE_URL, then exits: once per deploy, before the
// services start (the `migrate` service of docker-compose.yml; the demo and the tests run it as a process too).
//   DATABASE_URL=postgres://... node sample/dist/tools/migrate.js
import 'reflect-metadata';
import { runMigrations } from '@sample/common';
import { ACCOUNTS_MIGRATIONS } from '../apps/accounts/src/migrations/index.js';
import { INVENTORY_MIGRATIONS } from '../apps/inventory/src/migrations/index.js';
import { MAILER_MIGRATIONS } from '../apps/mailer/src/migrations/index.js';
import { ORDERS_MIGRATIONS } from '../apps/orders/src/migrations/index.js';
import { USERS_MIGRATIONS } from '../apps/users/src/migrations/index.js';

export const ALL_MIGRATIONS = [USERS_MIGRATIONS, ACCOUNTS_MIGRATIONS, MAILER_MIGRATIONS, ORDERS_MIGRATIONS, INVENTORY_MIGRATIONS];

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('migrate: set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  process.exit(2);
}
try {
  const ran = await runMigrations(url, ALL_MIGRATIONS);
  console.log(ran.length > 0 ? `migrate: ran ${ran.join(', ')}` : 'migrate: nothing to do');
} catch (err) {
  console.error(`migrate: failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
}
