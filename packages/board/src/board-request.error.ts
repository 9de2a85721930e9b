/** A request the board refuses, with the HTTP status it answers and a message safe to show. */
export class BoardRequestError extends Error {
  override readonly name = 'BoardRequestError';

  constructor(readonly status: number, message: string) {
    super(message);
  }
}
