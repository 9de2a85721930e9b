interface Scheduled<T> {
  dueAt: number;
  item: T;
}

/**
 * Items waiting for their due time, in due order, behind one timer (not one per item). A plain scheduler:
 * what to do when items fall due is the caller's.
 */
export class RetryQueue<T> {
  private queue: Scheduled<T>[] = [];
  private timer?: NodeJS.Timeout;
  private timerDueAt = Infinity;
  private stopped = false;

  /** `onDue` gets every item due at once, in due order. */
  constructor(private readonly onDue: (items: T[]) => void) {}

  get size(): number {
    return this.queue.length;
  }

  schedule(item: T, delayMs: number): void {
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
    this.queue.splice(lo, 0, { dueAt, item });
    this.arm();
  }

  cancel(item: T): void {
    const i = this.queue.findIndex(s => s.item === item);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Stops the timer; returns the items that were waiting. */
  stop(): T[] {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.queue.map(s => s.item);
    this.queue = [];
    return items;
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
