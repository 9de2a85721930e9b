import type { ServiceMigrations } from '@sample/common';
import { CreateUsers1767225600000 } from './1767225600000-create-users.js';

/** The users service owns the `users` schema. */
export const USERS_MIGRATIONS: ServiceMigrations = { schema: 'users', migrations: [CreateUsers1767225600000] };
