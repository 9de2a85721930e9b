import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { RedisStreamsClient } from '@nestream/transport';
import { DataSource } from 'typeorm';
import { OutboxMessage } from './outbox-message.entity.js';
import { OUTBOX_CLIENT, OUTBOX_OPTIONS, type OutboxOptions } from './outbox.options.js';

/** Pause after a failed drain (Redis or Postgres down), so the relay does not spin. */
const ERROR_PAUSE_MS = 1000;

/**
 * Publishes the outbox: in one transaction, takes the oldest events (`FOR UPDATE SKIP LOCKED`, so two relays never
 * take the same rows), adds them to their streams with one `emitMany()` per pattern, deletes them, commits.
 * A crash after the XADD and before the commit publishes those events again on the next drain: consumers key
 * their effects on the event's own ids (user id, order id), so a second copy changes nothing.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly pollMs: number;
  private readonly batchSize: number;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  /** Set by wake() during a drain: the next pause returns at once, so no event waits for the next poll. */
  private woken = false;
  private published = 0;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(OUTBOX_CLIENT) private readonly client: RedisStreamsClient,
    @Inject(OUTBOX_OPTIONS) options: OutboxOptions,
  ) {
    this.pollMs = options.pollMs ?? 200;
    this.batchSize = options.batchSize ?? 200;
  }

  onApplicationBootstrap(): void {
    this.running = this.run();
  }

  /** Stops after the drain in progress: what is left stays in the table for the next start. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.running;
    this.logger.log(`stopped (${this.published} events published)`);
  }

  /** Drain now rather than at the next poll: call it after committing a transaction that added events. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Publishes up to `batchSize` events; resolves with how many. */
  async drainOnce(): Promise<number> {
    const count = await this.dataSource.transaction(async manager => {
      const rows = await manager
        .createQueryBuilder(OutboxMessage, 'message')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .orderBy('message.id')
        .limit(this.batchSize)
        .getMany();
      if (rows.length === 0) return 0;
      for (const [pattern, payloads] of byPattern(rows)) await this.client.emitMany(pattern, payloads);
      await manager.delete(OutboxMessage, rows.map(row => row.id));
      return rows.length;
    });
    this.published += count;
    return count;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let drained = 0;
      try {
        drained = await this.drainOnce();
      } catch (err) {
        this.logger.warn(`publishing the outbox failed, trying again in ${ERROR_PAUSE_MS} ms: ${(err as Error).message}`);
        await sleep(ERROR_PAUSE_MS); // not cut short by wake(): during an outage every request would wake it
        continue;
      }
      if (drained < this.batchSize) await this.pause(this.pollMs);
    }
  }

  /** Waits `ms`, or less if woken. */
  private pause(ms: number): Promise<void> {
    if (this.stopping || this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise(resolve => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

function byPattern(rows: OutboxMessage[]): Map<string, object[]> {
  const groups = new Map<string, object[]>();
  for (const row of rows) {
    const group = groups.get(row.pattern) ?? [];
    group.push(row.payload);
    groups.set(row.pattern, group);
  }
  return groups;
}
