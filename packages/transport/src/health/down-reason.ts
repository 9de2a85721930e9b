import { isConnectionLost, redisErrorMessage } from '../redis/replies.js';

/** Why the indicator says down: the `reason` field of its result, one per kind of failure. */
export type DownReason =
  | 'not-listening'
  | 'connection-refused'
  | 'unreachable'
  | 'timeout'
  | 'redis-error'
  | 'reader-stalled'
  | 'stream-missing'
  | 'group-missing'
  | 'max-pending'
  | 'max-lag';

/** A check that got no answer within its time. */
class CheckTimeout extends Error {}

/** `promise`, or a rejection with `message` once `ms` have passed (the timer is cleared either way). */
export function withinMs<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CheckTimeout(message)), Math.max(0, ms))));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Socket errors that mean "cannot get there", as opposed to a refusal by a host that is up.
const UNREACHABLE_CODES = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE']);

/**
 * The reason and message for an error met by a check (`fallback` says which check). `stream` names the key a
 * command was about, for XINFO's "no such key".
 */
export function describeDown(err: unknown, fallback: string, stream?: string): { reason: DownReason; message: string } {
  if (err === undefined || err === null) return { reason: 'unreachable', message: `${fallback} (no connection error seen yet)` };
  if (err instanceof CheckTimeout) return { reason: 'timeout', message: err.message };
  const text = redisErrorMessage(err);
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return { reason: 'connection-refused', message: `Redis refused the connection (${text})` };
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return { reason: 'unreachable', message: `Redis is unreachable (${text})` };
  if (stream !== undefined && /^ERR no such key/.test(text)) {
    return { reason: 'stream-missing', message: `${stream}: the stream does not exist (deleted, or not created again yet after Redis came back); the reader recreates it` };
  }
  if (text.startsWith('NOGROUP')) return { reason: 'group-missing', message: `${stream ?? fallback}: ${text}` };
  if (text === 'Command timed out') return { reason: 'timeout', message: `${fallback}: no answer from Redis` };
  if (isConnectionLost(err)) return { reason: 'unreachable', message: `${fallback}: the connection to Redis was lost (${text})` };
  return { reason: 'redis-error', message: `${fallback}: ${text}` };
}
