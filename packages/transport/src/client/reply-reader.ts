import { Command } from 'ioredis';
import type { RedisClient } from '../redis/redis-client.js';
import type { WritePacket } from '@nestjs/microservices';
import type { ConnectionOptions } from '../options/connection.js';
import { PermissionError } from '../errors/permission.error.js';
import { commandError } from '../redis/command-errors.js';
import { createRedis } from '../redis/create-redis.js';
import { checkProducerPermissions } from '../redis/permissions.js';
import { ReadTimeoutError, ReadWatchdog } from '../redis/read-watchdog.js';
import { decodeReply } from '../wire/reply.js';
import { WakeablePause } from '../wakeable-pause.js';

// The same read timing as the server's reader (blockMs, blockMs + watchdogMs).
const BLOCK_MS = 2000;
const WATCHDOG_MS = BLOCK_MS + 5000;
const READ_ERROR_PAUSE_MS = 200;
// Replies per read at most: a burst of replies is routed in a few reads, not one round trip each.
const READ_COUNT = 1000;
// After a permission error (an operator must act) the loop waits longer.
const PERMISSION_PAUSE_MS = 2000;
// Replies already routed are trimmed away every so often; the server also sets a TTL on the stream.
const TRIM_EVERY = 100;

type XReadReply = Array<[stream: string, entries: Array<[id: string, fields: string[]]>]> | null;

/**
 * Reads this client's reply stream (plain XREAD: only this client reads it) and routes each reply to the
 * waiting send() by correlation id. Started on the first send().
 */
export class ReplyReader {
  private readonly redis: RedisClient;
  private readonly waiting = new Map<string, (packet: WritePacket) => void>();
  private lastId = '0-0';
  private sinceTrim = 0;
  private running = true;
  private readonly loop: Promise<void>;
  private readonly watchdog = new ReadWatchdog(WATCHDOG_MS, 'reply XREAD');
  private permissions?: Promise<void>;
  /** The pause after an error, cut short by close(). */
  private readonly pausing = new WakeablePause();

  constructor(connection: ConnectionOptions, readonly stream: string) {
    this.redis = createRedis(connection, 'replies');
    this.redis.on('error', () => undefined); // the loop reports and retries
    this.watchdog.start();
    this.loop = this.run();
  }

  /**
   * Resolves once the user may read and trim the reply stream; rejects with a PermissionError naming XREAD or
   * XTRIM and the stream otherwise, so a request is not sent when its reply could never be read. Checked once;
   * again after a refusal (an operator may have granted it since). Probed on `redis` (the client's producer
   * connection, same user): this reader's own connection is held by its blocking XREAD.
   */
  allowed(redis: RedisClient): Promise<void> {
    this.permissions ??= checkProducerPermissions(redis, { streams: [], replyStream: this.stream }).catch(err => {
      this.permissions = undefined;
      if (err instanceof PermissionError) throw err;
      // Anything else (a connection error) is for the request itself to meet.
    });
    return this.permissions;
  }

  expect(correlationId: string, onReply: (packet: WritePacket) => void): void {
    this.waiting.set(correlationId, onReply);
  }

  forget(correlationId: string): void {
    this.waiting.delete(correlationId);
  }

  /** Stops reading; every send() still waiting fails at once with `err` (its request may have been handled). */
  async close(err: Error): Promise<void> {
    this.failAll(err);
    this.running = false;
    this.watchdog.stop();
    this.redis.disconnect();
    this.watchdog.abandon('the client was closed');
    this.pausing.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const command = new Command('xread', ['COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', this.stream, this.lastId], { replyEncoding: 'utf8' });
        const reply = await this.watchdog.watch<XReadReply>(command, c => this.redis.sendCommand(c));
        if (!reply) continue;
        for (const [, entries] of reply) {
          for (const [id, fields] of entries) {
            this.lastId = id;
            this.sinceTrim++;
            const decoded = decodeReply(fields);
            const waiter = decoded.correlationId === undefined ? undefined : this.waiting.get(decoded.correlationId);
            // A reply that cannot be used fails its caller at once instead of leaving it to time out.
            waiter?.(decoded.error ? { err: decoded.error, isDisposed: true } : (decoded.packet as WritePacket));
          }
        }
        if (this.sinceTrim >= TRIM_EVERY) {
          this.sinceTrim = 0;
          await this.redis.xtrim(this.stream, 'MINID', this.lastId).catch(err => {
            throw commandError(err, 'XTRIM', this.stream);
          });
        }
      } catch (err) {
        if (!this.running) return;
        if (err instanceof ReadTimeoutError) this.redis.disconnect(true);
        const failure = commandError(err, 'XREAD', this.stream);
        // Permission revoked while requests wait: they fail now, naming the command, instead of timing out.
        if (failure instanceof PermissionError) this.failAll(failure);
        await this.pausing.sleep(failure instanceof PermissionError ? PERMISSION_PAUSE_MS : READ_ERROR_PAUSE_MS);
      }
    }
  }


  private failAll(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const onReply of waiting) onReply({ err, isDisposed: true });
  }
}
