/** The typed events of `RedisStreamsServer.on()`, and how the consumer's parts emit them. */

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

/** What one retention run of one stream did (the `retention` event). */
export interface RetentionEvent {
  stream: string;
  /** Entries trimmed that every group had read and acked. */
  trimmed: number;
  /** Entries trimmed by `hardMaxLen`. */
  hardTrimmed: number;
  /** True when the hard cap dropped entries some group had not read and acked. */
  droppedUnread: boolean;
  /** Nothing at or above this id was trimmed safely: the oldest entry a group still needs (undefined: no group). */
  floorId?: string;
  /** The group whose oldest pending entry (or read position) is the floor: what holds the stream back. */
  heldBackBy?: string;
  /** The stream's length after the trim. */
  length: number;
}

/** A handler call of an ordered partition ended after this consumer's lease on the partition was lost. */
export interface LateCompletionEvent {
  /** The partition's stream. */
  stream: string;
  /** The entry the call handled. */
  id: string;
  /** The generation of the lease the call started under (what `ctx.getFencingToken()` returned to it). */
  fencingToken: number;
  /** Who holds the partition's lease now (null: nobody, or unknown). */
  owner: string | null;
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
  /**
   * Triggered when a handler call of an ordered partition ended after this consumer lost its lease on the
   * partition (its process stalled longer than the lease): the partition's next owner may have run the entry,
   * and later ones, meanwhile.
   */
  lateCompletion: (event: LateCompletionEvent) => void;
  /** Triggered when entries were trimmed or deleted before they were handled (read or not): see DeletedEvent. */
  deleted: (event: DeletedEvent) => void;
  /** Triggered after each retention run of a stream (`retention` option): what was trimmed, and what holds the stream back. */
  retention: (event: RetentionEvent) => void;
}

/** Emits one of the server's typed events (the parts of the consumer get this, not the server's emitter). */
export type EmitEvent = <K extends keyof RedisStreamsEvents>(event: K, ...args: Parameters<RedisStreamsEvents[K]>) => void;
