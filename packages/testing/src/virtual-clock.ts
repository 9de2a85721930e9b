import type { AttemptClock } from '@nestream/transport/internal';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * The bed's time: backoff waits, request deadlines and handler timeouts run on it, never on the global timers,
 * so it moves only when the bed moves it (`drain()`, `advance()`), and Jest's or Vitest's fake timers neither
 * drive nor block it. Starts at the wall-clock time of its creation (entry ids look like Redis's).
 */
export class VirtualClock implements AttemptClock {
  private current: number;
  private seq = 0;
  private readonly timers: Timer[] = [];

  constructor(start = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): () => void {
    const timer: Timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      const i = this.timers.indexOf(timer);
      if (i >= 0) this.timers.splice(i, 1);
    };
  }

  /** When the next timer falls due, or undefined with none. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves to `at` (never backwards) and runs the timers due by then, in time order (ties in the order set).
   * Returns how many ran.
   */
  runUntil(at: number): number {
    let ran = 0;
    for (;;) {
      let first: Timer | undefined;
      for (const t of this.timers) if (t.at <= at && (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq))) first = t;
      if (!first) break;
      this.timers.splice(this.timers.indexOf(first), 1);
      this.current = Math.max(this.current, first.at);
      first.fn();
      ran++;
    }
    this.current = Math.max(this.current, at);
    return ran;
  }
}
