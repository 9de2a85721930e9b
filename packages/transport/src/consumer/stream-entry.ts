/**
 * One stream entry as read or claimed. `fields` is null for an id whose entry was trimmed away.
 * The lease fields belong to Leases: keeping them on the entry means no map entry to create and drop
 * per entry on the hot path (that churn was most of what the consumer's heap promoted).
 */
export interface StreamEntry {
  stream: string;
  id: string;
  fields: string[] | null;
  deliveryCount: number;
  /** Index in Leases while this consumer holds the entry, else -1. */
  leaseSlot: number;
  /** When we last read, claimed or renewed the entry (Redis's idle time restarted then). */
  touchedAt: number;
}

/** A new entry, not held yet (Leases.add holds it). Always this shape, so the hot path stays monomorphic. */
export function streamEntry(stream: string, id: string, fields: string[] | null, deliveryCount: number): StreamEntry {
  return { stream, id, fields, deliveryCount, leaseSlot: -1, touchedAt: 0 };
}
