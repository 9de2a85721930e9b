import type { DecodedMessage } from '../wire/codec.js';

/**
 * One stream entry as read or claimed. `fields` is null for an id whose entry was trimmed away.
 * The lease fields belong to Leases: keeping them on the entry means no map entry to create and drop
 * per entry on the hot path (that churn was most of what the consumer's heap promoted).
 */
export interface StreamEntry {
  stream: string;
  id: string;
  fields: string[] | null;
  /** Deliveries so far, this one included (Redis's count). */
  deliveryCount: number;
  /**
   * Handler failures recorded before this delivery (FailureRecord): this attempt is number failures + 1.
   * The other deliveries before this one, deliveryCount - 1 - failures, were interrupted (a crash, a stop).
   */
  failures: number;
  /** Index in the Leases slab while this consumer holds the entry, else -1 (not a concurrency slot). */
  leaseIndex: number;
  /** When Redis last restarted the entry's idle time for us (read, claim, renewal), as our clock saw the reply. */
  touchedAt: number;
  /** The decoded message, once the attempt decoded it (the settler answers a request's caller with it). */
  message: DecodedMessage | undefined;
  /** Found trimmed or deleted while held here and reported as deleted (or being checked for it): nothing left to settle or report. */
  gone: boolean;
}

/** A new entry, not held yet (Leases.hold holds it). Always this shape, so the hot path stays monomorphic. */
export function streamEntry(stream: string, id: string, fields: string[] | null, deliveryCount: number): StreamEntry {
  return { stream, id, fields, deliveryCount, failures: 0, leaseIndex: -1, touchedAt: 0, message: undefined, gone: false };
}
