import type { ServiceMigrations } from '@sample/common';
import { CreateStock1767225600000 } from './1767225600000-create-stock.js';

/** The inventory owns the `inventory` schema. */
export const INVENTORY_MIGRATIONS: ServiceMigrations = { schema: 'inventory', migrations: [CreateStock1767225600000] };
