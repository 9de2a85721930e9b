/**
 * Concurrency slots: one per entry handed to a handler and not yet settled or scheduled for retry.
 * Whoever waits for a slot is woken one per freed slot, in arrival order (never all at once).
 */
export class Slots {
  private used = 0;
  private waiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

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
    for (let i = 0; i < n && this.waiters.length > 0; i++) this.waiters.shift()!();
    if (this.used === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves at once if a slot is free, else when one is released (one waiter per freed slot). */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise(resolve => this.waiters.push(resolve));
  }

  /** Resolves once every slot is released. */
  whenIdle(): Promise<void> {
    if (this.used === 0) return Promise.resolve();
    return new Promise(resolve => this.idleWaiters.push(resolve));
  }
}
