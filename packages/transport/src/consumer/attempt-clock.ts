/**
 * The time an attempt reads: request deadlines and handlerTimeoutMs. The consumer uses the system clock; the
 * test kit (`@nestream/testing`) passes a virtual one, so a handler timeout passes without real time passing.
 */
export interface AttemptClock {
  now(): number;
  /** Runs `fn` after `ms`; returns what cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const SYSTEM_CLOCK: AttemptClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
