import type { Redis } from 'ioredis';
import { isObservable, Observable } from 'rxjs';
import type { DecodedMessage } from '../wire/codec.js';
import { ReplyWriteError } from '../errors/reply-write.error.js';
import { encodeReply, type ReplyPacket } from '../wire/reply.js';

// Reply streams belong to clients that may vanish: cap them and let Redis drop them when unused.
const REPLY_STREAM_MAXLEN = 10_000;
const REPLY_STREAM_TTL_S = 300;

/** Writes a @MessagePattern handler's values (or its error) to the caller's reply stream. */
export class ReplyWriter {
  constructor(private readonly redis: Redis) {}

  /** Forwards every value, then the completion. Rejects if the handler's stream errors. */
  async send(message: DecodedMessage, result: unknown): Promise<void> {
    if (isObservable(result)) {
      // Values are written as they come, so a streaming handler's caller sees them before completion.
      await new Promise<void>((resolve, reject) => {
        let chain = Promise.resolve();
        (result as Observable<unknown>).subscribe({
          next: value => {
            chain = chain.then(() => this.write(message, { response: value }));
          },
          error: reject,
          complete: () => chain.then(resolve, reject),
        });
      });
    } else {
      await this.write(message, { response: result });
    }
    await this.write(message, { isDisposed: true });
  }

  /** The error reply, shaped as Nest's exception filter made it (what built-in transports send). */
  async sendError(message: DecodedMessage, wireError: unknown): Promise<void> {
    await this.write(message, { err: wireError, isDisposed: true });
  }

  private async write(message: DecodedMessage, packet: ReplyPacket): Promise<void> {
    if (!message.replyTo || !message.correlationId) return; // emitted, not sent: nobody waits for a reply
    try {
      await this.redis
        .multi()
        .xadd(message.replyTo, 'MAXLEN', '~', REPLY_STREAM_MAXLEN, '*', ...encodeReply(message.correlationId, packet))
        .expire(message.replyTo, REPLY_STREAM_TTL_S)
        .exec();
    } catch (err) {
      throw new ReplyWriteError(message.replyTo, err);
    }
  }
}
