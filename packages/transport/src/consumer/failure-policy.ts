import { UnrecoverableEventError } from '../errors/unrecoverable-event.error.js';
import type { AttemptResult } from './attempt-result.js';
import { backoffDelay } from './backoff.js';
import type { DeadLetterReason } from './dead-letter.js';
import type { Route } from './route.js';

/** What happens to an entry after an attempt. */
export type Decision =
  | { kind: 'ack'; skipped?: 'trimmed' | 'expired' }
  | { kind: 'retry'; delayMs: number; error: unknown }
  /**
   * `wireError`: what a request's caller is answered (Nest's filtered error). `beforeHandler`: the entry was
   * refused before any handler call (undecodable, delivered too often), so no handler failure is reported.
   * `moved`: dead-lettered inside Redis already (the size guard's read): only reported.
   */
  | { kind: 'deadLetter'; reason: DeadLetterReason; error: unknown; wireError?: unknown; beforeHandler?: boolean; moved?: true }
  /** Nothing ran and nothing failed (the consumer is stopping): the entry stays pending for whoever comes next. */
  | { kind: 'leave' };

// Shared: an ack is the common case and allocates nothing.
const ACK: Decision = { kind: 'ack' };
const LEAVE: Decision = { kind: 'leave' };

/** What Nest's default RPC exception filter answers for an error that is not an RpcException. */
export const INTERNAL_ERROR = { status: 'error', message: 'Internal server error' };

export interface PolicyInput {
  route: Route;
  /** The attempt that just ended: handler failures recorded before it, plus one (interrupted deliveries do not count). */
  attempt: number;
  result: AttemptResult;
  /** A request's deadline (ms since epoch), when its caller stops waiting. */
  deadline?: number;
  /** @default Date.now(), read only when a failure's retry must be checked against a deadline */
  now?: number;
  random?: () => number;
}

/**
 * The failure policy, a pure function: success acks; a failure is retried after its backoff while attempts
 * remain, else dead-lettered; `UnrecoverableEventError` and validation failures are dead-lettered at once;
 * a request is not retried past its caller's deadline.
 */
export function decide({ route, attempt, result, deadline, now, random = Math.random }: PolicyInput): Decision {
  switch (result.kind) {
    case 'handled':
      return ACK;
    case 'skipped':
      return { kind: 'ack', skipped: result.why };
    case 'stopped':
      return LEAVE;
    case 'rejected':
      return { kind: 'deadLetter', reason: result.reason, error: result.error, wireError: INTERNAL_ERROR, beforeHandler: true, moved: result.moved };
    case 'manual': {
      const s = result.settlement;
      if (s?.kind === 'ack') return ACK;
      if (s?.kind === 'deadLetter') {
        return { kind: 'deadLetter', reason: 'manual', error: { name: 'ManualDeadLetter', message: s.reason }, wireError: INTERNAL_ERROR };
      }
      const error = result.error ?? new Error(s ? 'handler asked for a retry' : 'handler returned without settling the entry (ack: manual)');
      return onFailure(route, attempt, error, INTERNAL_ERROR, s?.kind === 'retry' ? s.delayMs : undefined, deadline, now, random);
    }
    case 'failed':
      return onFailure(route, attempt, result.error, result.wireError, undefined, deadline, now, random);
  }
}

function onFailure(
  route: Route,
  attempt: number,
  error: unknown,
  wireError: unknown,
  delayMs: number | undefined,
  deadline: number | undefined,
  now: number | undefined,
  random: () => number,
): Decision {
  if (isValidationError(error)) return { kind: 'deadLetter', reason: 'validation', error, wireError };
  if (error instanceof UnrecoverableEventError) return { kind: 'deadLetter', reason: 'unrecoverable', error, wireError };
  if (attempt >= route.retry.maxAttempts) return { kind: 'deadLetter', reason: 'max-attempts', error, wireError };
  const delay = delayMs ?? backoffDelay(route.retry.backoff, attempt, random);
  if (deadline !== undefined && (now ?? Date.now()) + delay >= deadline) return { kind: 'deadLetter', reason: 'deadline', error, wireError };
  return { kind: 'retry', delayMs: delay, error };
}

/** A ValidationPipe failure (BadRequestException) will fail the same way on every attempt. */
export function isValidationError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; getStatus?: unknown };
  return e.name === 'BadRequestException' && typeof e.getStatus === 'function';
}
