import type { Command } from 'ioredis';

/** A blocking read that did not come back in time; its connection is then recycled. */
export class ReadTimeoutError extends Error {
  override readonly name = 'ReadTimeoutError';
}

// How often the watchdog looks at the read in flight, at most.
const TICK_MAX_MS = 1000;

/**
 * Fails a blocking read (XREADGROUP / XREAD ... BLOCK) that has not come back within `limitMs`: ioredis can
 * leave a blocking command hanging after a reconnect. One interval timer per reader, not one per read (at
 * low rates every read is an event). A reply that still arrives later finds the command settled and is
 * dropped; what it carried stays pending (XREADGROUP) or is read again (XREAD from the last id).
 */
export class ReadWatchdog {
  private reading?: Command;
  private sentAt = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly limitMs: number,
    private readonly what: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), Math.max(25, Math.min(TICK_MAX_MS, this.limitMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Sends `command` through `send` and watches it until it settles. */
  async watch<T>(command: Command, send: (command: Command) => unknown): Promise<T> {
    this.reading = command;
    this.sentAt = Date.now();
    try {
      return (await send(command)) as T;
    } finally {
      if (this.reading === command) this.reading = undefined;
    }
  }

  /**
   * Settles the read in flight now (close()): a command ioredis holds in its offline queue while reconnecting
   * is never settled by disconnect(), and the watchdog is stopped by then.
   */
  abandon(why: string): void {
    const command = this.reading;
    this.reading = undefined;
    command?.reject(new ReadTimeoutError(`${this.what} abandoned: ${why}`));
  }

  private check(): void {
    const command = this.reading;
    if (!command || Date.now() - this.sentAt < this.limitMs) return;
    this.reading = undefined;
    command.reject(new ReadTimeoutError(`${this.what} did not return within ${this.limitMs} ms; recycling its connection`));
  }
}
