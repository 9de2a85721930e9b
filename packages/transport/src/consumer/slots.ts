/**
 * Concurrency slots: one per entry that has been read and not yet settled (or scheduled for retry).
 * The reader reserves slots before it reads, so it never holds more entries than `size`.
 */
export class Slots {
  private used = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly size: number) {}

  get free(): number {
    return this.size - this.used;
  }

  get inUse(): number {
    return this.used;
  }

  /** Takes up to `n` free slots and returns how many were taken. */
  take(n: number): number {
    const taken = Math.max(0, Math.min(n, this.free));
    this.used += taken;
    return taken;
  }

  release(n = 1): void {
    this.used -= n;
    if (this.used < 0) throw new Error(`nestream internal error: released more slots than taken (${this.used})`);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next release (or at once if a slot is free). */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return this.nextRelease();
  }

  /** Resolves once every slot is released. */
  async whenIdle(): Promise<void> {
    while (this.used > 0) await this.nextRelease();
  }

  private nextRelease(): Promise<void> {
    return new Promise(resolve => this.waiters.push(resolve));
  }
}
