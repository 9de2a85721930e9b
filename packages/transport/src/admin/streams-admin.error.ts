/** What was wrong, for callers that branch on it (the CLI prints the message either way). */
export type StreamsAdminErrorCode =
  | 'unknown-stream'
  | 'not-a-stream'
  | 'unknown-group'
  | 'bad-id'
  | 'not-found'
  | 'no-group'
  | 'bad-option'
  | 'group-exists';

/** Thrown by StreamsAdmin for input it cannot act on: a stream or group that does not exist, a bad id. */
export class StreamsAdminError extends Error {
  override readonly name = 'StreamsAdminError';

  constructor(readonly code: StreamsAdminErrorCode, message: string) {
    super(message);
  }
}
