/** client.send() got no complete reply within requestTimeoutMs (or the record's timeout). */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';

  constructor(pattern: string, timeoutMs: number) {
    super(`No reply to "${pattern}" within ${timeoutMs} ms (option requestTimeoutMs, or RedisStreamRecordBuilder.setTimeout())`);
  }
}
