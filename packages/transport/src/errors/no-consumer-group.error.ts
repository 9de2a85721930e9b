import { brand } from '../brand.js';

/**
 * client.send() to a pattern whose stream no consumer group reads: no `@MessagePattern` server for it has
 * started (or its group was deleted), so no reply can come. Raised at once instead of after
 * requestTimeoutMs. `written` says whether the request entry was added to the stream anyway (a server
 * started later with `startId: '0'` may still handle it; its reply is then ignored).
 */
export class NoConsumerGroupError extends Error {
  static {
    brand(this, 'NoConsumerGroupError');
  }

  override readonly name = 'NoConsumerGroupError';

  constructor(
    readonly pattern: string,
    readonly stream: string,
    readonly written: boolean,
  ) {
    super(
      `send("${pattern}"): no consumer group reads stream "${stream}": no @MessagePattern('${pattern}') server has started ` +
        `(or its group was deleted), so no reply can come; ${written ? 'the request was added to the stream' : 'the request was not sent'}`,
    );
  }
}
