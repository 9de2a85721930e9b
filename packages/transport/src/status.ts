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
  /** Deliveries of the entry, this one included (Redis's delivery count; interrupted ones too). */
  attempts: number;
  error: { name: string; message: string };
}

export interface HandlerFailedEvent {
  stream: string;
  id: string;
  /** Which attempt failed: handler failures before it plus one (deliveries a crash interrupted do not count). */
  attempt: number;
  error: unknown;
  /** When the next attempt is due (ms since epoch), or undefined when the entry is dead-lettered. */
  retryAt?: number;
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
  /** Triggered when pending ids whose entries were trimmed away were cleaned up. */
  deleted: (event: { stream: string; ids: string[] }) => void;
}
