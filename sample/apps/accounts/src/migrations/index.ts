import type { ServiceMigrations } from '@sample/common';
import { CreateAccounts1767225600000 } from './1767225600000-create-accounts.js';

/** The accounts service owns the `accounts` schema. */
export const ACCOUNTS_MIGRATIONS: ServiceMigrations = { schema: 'accounts', migrations: [CreateAccounts1767225600000] };
