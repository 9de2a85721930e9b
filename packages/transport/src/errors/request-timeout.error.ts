import { brand } from '../brand.js';

/**
 * client.send() got no complete reply within requestTimeoutMs (or the record's timeout). `replies` is how
 * many values had come by then: a handler returning a stream of values that never completed times out
 * with replies > 0.
 */
export class RequestTimeoutError extends Error {
  static {
    brand(this, 'RequestTimeoutError');
  }

  override readonly name = 'RequestTimeoutError';

  constructor(pattern: string, timeoutMs: number, readonly replies = 0) {
    const option = '(option requestTimeoutMs, or RedisStreamRecordBuilder.setTimeout())';
    super(
      replies === 0
        ? `No reply to "${pattern}" within ${timeoutMs} ms ${option}`
        : `No complete reply to "${pattern}" within ${timeoutMs} ms: ${replies} ${replies === 1 ? 'value' : 'values'} came, then the reply stream did not end ${option}`,
    );
  }
}
