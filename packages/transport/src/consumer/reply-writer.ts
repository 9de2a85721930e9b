import type { RedisClient } from '../redis/redis-client.js';
import { isObservable, Observable } from 'rxjs';
import { execChecked } from '../redis/command-errors.js';
import type { DecodedMessage } from '../wire/codec.js';
import { ReplyWriteError } from '../errors/reply-write.error.js';
import { encodeReply, type ReplyPacket } from '../wire/reply.js';

// Reply streams belong to clients that may vanish: cap them and let Redis drop them when unused.
const REPLY_STREAM_MAXLEN = 10_000;
const REPLY_STREAM_TTL_S = 300;

/** Appends one reply entry to a reply stream; rejects with a ReplyWriteError. */
export type AppendReply = (key: string, fields: string[]) => Promise<void>;

/**
 * Writes a @MessagePattern handler's values (or its error) to the caller's reply stream. The stream is
 * `message.replyTo`, which decode() admits only inside the client reply namespace (`<keyPrefix>nestream:replies:`).
 * Where the entries go is `append`'s: Redis (`appendReplyTo`), or the test kit's in-memory broker.
 */
export class ReplyWriter {
  constructor(private readonly append: AppendReply) {}

  /** Forwards every value, then the completion. Rejects if the handler's stream errors or a write fails. */
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

  private write(message: DecodedMessage, packet: ReplyPacket): Promise<void> {
    if (!message.replyTo || !message.correlationId) return Promise.resolve(); // emitted, not sent: nobody waits for a reply
    return this.append(message.replyTo, encodeReply(message.correlationId, packet));
  }
}

/**
 * Reply entries written to Redis (XADD, capped, and EXPIRE). Rejects with a ReplyWriteError whose cause names
 * the command (XADD or EXPIRE) and the reply stream: a RedisCommandError, or a PermissionError for NOPERM.
 */
export function appendReplyTo(redis: RedisClient): AppendReply {
  return async (key, fields) => {
    try {
      await execChecked(
        redis.multi().xadd(key, 'MAXLEN', '~', REPLY_STREAM_MAXLEN, '*', ...fields).expire(key, REPLY_STREAM_TTL_S).exec(),
        [{ command: 'XADD', key }, { command: 'EXPIRE', key }],
      );
    } catch (err) {
      throw new ReplyWriteError(key, err);
    }
  };
}
