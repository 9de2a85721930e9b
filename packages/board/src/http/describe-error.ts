import { StreamsAdminError } from '@nestream/transport/admin';
import { BoardRequestError } from '../board-request.error.js';

/**
 * The status and message a failure is answered with. Input errors say what was wrong; Redis's own refusals
 * are passed on; anything else (a lost connection, say) gets a fixed message, as ioredis's could name hosts.
 */
export function describeError(err: unknown): [number, string] {
  if (err instanceof BoardRequestError) return [err.status, err.message];
  if (err instanceof StreamsAdminError) {
    const notFound = err.code === 'unknown-stream' || err.code === 'unknown-group' || err.code === 'not-found';
    return [notFound ? 404 : err.code === 'no-group' ? 409 : 400, err.message];
  }
  if ((err as Error)?.name === 'ReplyError') return [502, `Redis refused: ${(err as Error).message}`];
  return [503, 'Redis is unavailable (see the server log)'];
}
