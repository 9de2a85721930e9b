import type { DecodedMessage } from '../wire/codec.js';
import type { AttemptResult } from './attempt-result.js';

/**
 * One stream entry as read or claimed. `fields` is null for an id whose entry was trimmed away.
 * The lease fields belong to Leases: keeping them on the entry means no map entry to create and drop
 * per entry on the hot path (that churn was most of what the consumer's heap promoted).
 *
 * Each field has one owner, the only code that changes it after `streamEntry()` made it:
 * `fields`, `deliveryCount`, `leaseIndex`, `touchedAt`: Leases (a hold, a renewal, a retry taken back);
 * `gone`: GoneEntries; `failures`: FailureRecord; `screened`: the screens before submission (Utf8Guard; an entry
 * the size guard's script dead-lettered is made with it); `message`: Attempt.
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
  /**
   * What the entry's attempt returns without calling the handler, as a screen found it before submission:
   * `rejected` (decode) for bytes that are not UTF-8 or an entry the size guard's script dead-lettered (larger
   * than maxPayloadBytes), `skipped` for one gone since it was read. Undefined for every entry the screens let through.
   */
  screened: AttemptResult | undefined;
}

/** A new entry, not held yet (Leases.hold holds it). Always this shape, so the hot path stays monomorphic. */
export function streamEntry(stream: string, id: string, fields: string[] | null, deliveryCount: number, screened?: AttemptResult): StreamEntry {
  return { stream, id, fields, deliveryCount, failures: 0, leaseIndex: -1, touchedAt: 0, message: undefined, gone: false, screened };
}
