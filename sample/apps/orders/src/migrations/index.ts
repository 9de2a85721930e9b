import type { ServiceMigrations } from '@sample/common';
import { CreateOrders1767225600000 } from './1767225600000-create-orders.js';

/** The orders service owns the `orders` schema. */
export const ORDERS_MIGRATIONS: ServiceMigrations = { schema: 'orders', migrations: [CreateOrders1767225600000] };
