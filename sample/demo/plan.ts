import { randomBytes } from 'node:crypto';

/** Why an injected order cannot succeed, and the dead-letter reason it must end with. */
export type Poison = 'unknown-sku' | 'offline-warehouse';
export const POISON_REASON: Record<Poison | 'bounce' | 'legacy-invalid', string> = {
  bounce: 'unrecoverable',
  'unknown-sku': 'unrecoverable',
  'offline-warehouse': 'max-attempts',
  'legacy-invalid': 'validation',
};

export interface PlannedUser {
  email: string;
  name: string;
  /** At the SMTP sink's bounce domain: the welcome mail is refused for good. */
  bounces: boolean;
}

export interface PlannedOrder {
  customerEmail: string;
  sku: string;
  quantity: number;
  poison?: Poison;
}

export interface Plan {
  tag: string;
  users: PlannedUser[];
  orders: PlannedOrder[];
}

/** How many of each injected failure the demo adds. */
export const INJECTED = { bounces: 3, unknownSku: 4, offlineWarehouse: 3 };

/**
 * The run: `users` customers (plus a few at the bounce domain) and `orders` orders from them, widgets and gadgets
 * (gadgets run out, so some orders are rejected), with a few orders the inventory cannot handle mixed in: an
 * unknown SKU, and gizmos, kept in the warehouse the demo takes offline. A random tag keeps e-mail addresses unique
 * across runs against the same database.
 */
export function makePlan(users: number, orders: number): Plan {
  const tag = randomBytes(3).toString('hex');
  const planned: PlannedUser[] = Array.from({ length: users }, (_, i) => ({ email: `customer${i}-${tag}@example.com`, name: `Customer ${i}`, bounces: false }));
  for (let i = 0; i < INJECTED.bounces; i++) planned.push({ email: `nobody${i}-${tag}@bounce.example`, name: `Nobody ${i}`, bounces: true });
  const customers = planned.filter(u => !u.bounces);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
  const list: PlannedOrder[] = Array.from({ length: orders }, () => ({
    customerEmail: pick(customers).email,
    sku: Math.random() < 0.6 ? 'widget' : 'gadget',
    quantity: 1 + Math.floor(Math.random() * 3),
  }));
  const poison: PlannedOrder[] = [
    ...Array.from({ length: INJECTED.unknownSku }, () => ({ customerEmail: pick(customers).email, sku: 'sprocket', quantity: 1, poison: 'unknown-sku' as const })),
    ...Array.from({ length: INJECTED.offlineWarehouse }, () => ({ customerEmail: pick(customers).email, sku: 'gizmo', quantity: 1, poison: 'offline-warehouse' as const })),
  ];
  for (const order of poison) list.splice(Math.floor(Math.random() * list.length), 0, order);
  return { tag, users: planned, orders: list };
}
