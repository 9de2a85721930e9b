/** The status name is also the event name emitted through `on()`. */
export const RedisStreamsStatus = {
  CONNECTED: 'connected',
  DISCONNECTED: 'disconnected',
  RECONNECTING: 'reconnecting',
} as const;
export type RedisStreamsStatus = (typeof RedisStreamsStatus)[keyof typeof RedisStreamsStatus];

export interface DeadLetteredEvent {
  stream: string;
  id: string;
  deadLetterStream: string | false;
  reason: string;
  attempts: number;
  error: { name: string; message: string };
}

export interface HandlerFailedEvent {
  stream: string;
  id: string;
  attempt: number;
  error: unknown;
  /** When the next attempt is due (ms since epoch), or undefined when the entry is dead-lettered. */
  retryAt?: number;
}

/**
 * Entries that disappeared before they were handled: trimmed (a producer's `maxLen`, XTRIM, MINID) or XDELed.
 * `unread`: the group never read them, so their ids are not known (`ids` is empty) and `count` says how many;
 * otherwise they were delivered (pending) and `ids` names them.
 */
export interface DeletedEvent {
  stream: string;
  ids: string[];
  /** How many entries: `ids.length`, or for `unread` ones the count from the stream's counters. */
  count: number;
  /** True for entries removed before the group read them (see the trims section of the docs). */
  unread: boolean;
}

/** Events of `RedisStreamsServer.on()`. */
export interface RedisStreamsEvents {
  /** Triggered when the reader's connection is ready. */
  connected: () => void;
  /** Triggered when a connection is lost. */
  disconnected: () => void;
  /** Triggered when a connection is being re-established. */
  reconnecting: () => void;
  /** Triggered on a Redis or loop error the transport recovered from. */
  error: (err: unknown) => void;
  /** Triggered when a handler call fails (the entry is retried or dead-lettered next). */
  failed: (event: HandlerFailedEvent) => void;
  /** Triggered when an entry was moved to the dead-letter stream (or dropped, with deadLetter: false). */
  deadLettered: (event: DeadLetteredEvent) => void;
  /** Triggered when entries left by another consumer were claimed. */
  claimed: (event: { stream: string; ids: string[] }) => void;
  /** Triggered when entries were trimmed or deleted before they were handled (read or not): see DeletedEvent. */
  deleted: (event: DeletedEvent) => void;
}
