import { Command, type Redis } from 'ioredis';
import type { WritePacket } from '@nestjs/microservices';
import type { ConnectionOptions } from '../options.js';
import { createRedis } from '../redis/create-redis.js';
import { ReadTimeoutError, ReadWatchdog } from '../redis/read-watchdog.js';
import { decodeReply } from '../wire/reply.js';

// The same read timing as the server's reader (blockMs, blockMs + watchdogMs).
const BLOCK_MS = 2000;
const WATCHDOG_MS = BLOCK_MS + 5000;
const READ_ERROR_PAUSE_MS = 200;
// Replies per read at most: a burst of replies is routed in a few reads, not one round trip each.
const READ_COUNT = 1000;
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
  private readonly watchdog = new ReadWatchdog(WATCHDOG_MS, 'reply XREAD');

  constructor(connection: ConnectionOptions, readonly stream: string) {
    this.redis = createRedis(connection, 'replies');
    this.redis.on('error', () => undefined); // the loop reports and retries
    this.watchdog.start();
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
    this.watchdog.stop();
    this.redis.disconnect();
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
            if (decoded) this.waiting.get(decoded.correlationId)?.(decoded.packet as WritePacket);
          }
        }
        if (this.sinceTrim >= TRIM_EVERY) {
          this.sinceTrim = 0;
          await this.redis.xtrim(this.stream, 'MINID', this.lastId);
        }
      } catch (err) {
        if (!this.running) return;
        if (err instanceof ReadTimeoutError) this.redis.disconnect(true);
        await new Promise(r => setTimeout(r, READ_ERROR_PAUSE_MS));
      }
    }
  }
}
