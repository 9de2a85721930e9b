interface Scheduled<T> {
  key: string;
  dueAt: number;
  item: T;
}

/**
 * Entries waiting for their next attempt, ordered by due time, behind one timer (not one per entry).
 * Nothing here is the source of truth: the entry stays pending in Redis, with its delivery count, so a
 * crash loses only the timing and the claim loop of any consumer takes the entry over.
 */
export class RetryQueue<T> {
  private queue: Scheduled<T>[] = [];
  private timer?: NodeJS.Timeout;
  private timerDueAt = Infinity;
  private stopped = false;

  /** `onDue` gets every item due at once, in due order: the caller can take them back together. */
  constructor(private readonly onDue: (items: T[]) => void) {}

  get size(): number {
    return this.queue.length;
  }

  schedule(key: string, delayMs: number, item: T): void {
    if (this.stopped) return;
    const dueAt = Date.now() + delayMs;
    // Binary search: keep the queue sorted by due time.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.queue[mid].dueAt <= dueAt) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, { key, dueAt, item });
    this.arm();
  }

  cancel(key: string): void {
    const i = this.queue.findIndex(s => s.key === key);
    if (i >= 0) this.queue.splice(i, 1);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }

  private arm(): void {
    const next = this.queue[0];
    if (!next || next.dueAt >= this.timerDueAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDueAt = next.dueAt;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.dueAt - Date.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    const now = Date.now();
    let n = 0;
    while (n < this.queue.length && this.queue[n].dueAt <= now) n++;
    const due = this.queue.splice(0, n).map(s => s.item);
    this.arm();
    if (due.length > 0) this.onDue(due);
  }
}
