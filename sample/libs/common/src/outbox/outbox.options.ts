/** Injection token of the OutboxRelay's options. */
export const OUTBOX_OPTIONS = Symbol('OUTBOX_OPTIONS');

/** Injection token of the RedisStreamsClient the relay publishes with (an alias of `OutboxOptions.client`). */
export const OUTBOX_CLIENT = Symbol('OUTBOX_CLIENT');

export interface OutboxOptions {
  /** Injection token of the RedisStreamsClient the relay publishes with (registered globally by the app). */
  client: string | symbol;
  /** How often the relay looks for events when nobody woke it. @default 200 */
  pollMs?: number;
  /** Events published per transaction at most. @default 200 */
  batchSize?: number;
}
