import type { Redis } from 'ioredis';
import type { WritePacket } from '@nestjs/microservices';
import type { ConnectionOptions } from '../options.js';
import { createRedis } from '../redis/create-redis.js';
import { decodeReply } from '../wire/reply.js';

const BLOCK_MS = 2000;
const WATCHDOG_MS = BLOCK_MS + 5000;
// Replies already routed are trimmed away every so often; the server also sets a TTL on the stream.
const TRIM_EVERY = 100;

type XReadReply = Array<[stream: string, entries: Array<[id: string, fields: string[]]>]> | null;

/**
 * Reads this client's reply stream (plain XREAD: only this client reads it) and routes each reply to the
 * waiting send() by correlation id. Started on the first send().
 */
export class ReplyReader {
  private readonly redis: Redis;
  private readonly waiting = new Map<string, (packet: WritePacket) => void>();
  private lastId = '0-0';
  private sinceTrim = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(connection: ConnectionOptions, readonly stream: string) {
    this.redis = createRedis(connection, 'replies');
    this.redis.on('error', () => undefined); // the loop reports and retries
    this.loop = this.run();
  }

  expect(correlationId: string, onReply: (packet: WritePacket) => void): void {
    this.waiting.set(correlationId, onReply);
  }

  forget(correlationId: string): void {
    this.waiting.delete(correlationId);
  }

  async close(): Promise<void> {
    this.running = false;
    this.redis.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const reply = await this.readWithWatchdog();
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
          await this.redis.xtrim(this.stream, 'MINID', this.lastId);
        }
      } catch {
        if (!this.running) return;
        await new Promise(r => setTimeout(r, 200));
      }
    }
  }

  private readWithWatchdog(): Promise<XReadReply> {
    let timer: NodeJS.Timeout;
    const read = this.redis.xread('COUNT', 1000, 'BLOCK', BLOCK_MS, 'STREAMS', this.stream, this.lastId) as Promise<XReadReply>;
    read.catch(() => undefined);
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.redis.disconnect(true);
        reject(new Error('reply read hung; connection recycled'));
      }, WATCHDOG_MS);
    });
    return Promise.race([read, watchdog]).finally(() => clearTimeout(timer));
  }
}
