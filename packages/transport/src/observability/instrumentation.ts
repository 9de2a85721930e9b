/**
 * What the consumer tells an observer (metrics, tracing) about its work. The consumer calls these
 * synchronously on its hot path: implementations must be cheap and must not throw. NO_INSTRUMENTATION is
 * used when nothing is configured.
 */

/** One entry of an attempt, as the handler sees it. */
export interface AttemptEntry {
  id: string;
  deliveryCount: number;
  headers: Record<string, string>;
}

/** One handler call: a single entry, or the entries of a batch handler's call. */
export interface AttemptInfo {
  stream: string;
  group: string;
  pattern: string;
  batch: boolean;
  entries: readonly AttemptEntry[];
}

/** How each entry of the attempt ended: `failure` includes a thrown error, a timeout and a rejected guard. */
export type AttemptOutcome = 'success' | 'failure';

/** The life of one handler call. */
export interface AttemptObservation {
  /** Runs the handler call (inside a tracing context, say); returns what fn returns. */
  run<T>(fn: () => T): T;
  /** The call ended: one outcome per entry, and the error when any failed. */
  end(outcomes: readonly AttemptOutcome[], error?: unknown): void;
}

export interface ConsumerInstrumentation {
  attempt(info: AttemptInfo): AttemptObservation;
  deadLettered(stream: string, reason: string): void;
  claimed(stream: string, count: number): void;
}

const NO_OBSERVATION: AttemptObservation = {
  run: fn => fn(),
  end: () => undefined,
};

export const NO_INSTRUMENTATION: ConsumerInstrumentation = {
  attempt: () => NO_OBSERVATION,
  deadLettered: () => undefined,
  claimed: () => undefined,
};
