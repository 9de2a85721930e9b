import type { Settlement } from '../ctx-host/redis-stream.context.js';
import type { DeadLetterReason } from './dead-letter.js';

/** How one attempt of one entry ended, as the attempt saw it (the failure policy decides what follows). */
export type AttemptResult =
  /** The handler succeeded (for a request: its reply was written, or was an RpcException answer). */
  | { kind: 'handled' }
  /** The handler failed: threw, rejected, errored, timed out, or a guard or pipe refused the entry. */
  | { kind: 'failed'; error: unknown; wireError: unknown }
  /** ack: 'manual': what the handler settled (undefined: nothing), and its error if it threw. */
  | { kind: 'manual'; settlement: Settlement | undefined; error?: unknown }
  /** The entry never reached the handler and never will: undecodable (not UTF-8, oversized, not the wire format), or interrupted too often. */
  /** `moved`: dead-lettered inside Redis already (an oversized entry the size guard's read script moved): only reported. */
  | { kind: 'rejected'; reason: Extract<DeadLetterReason, 'decode' | 'interrupted'>; error: Error; moved?: true }
  /** Nothing to run: the entry was trimmed away, or a request's caller stopped waiting. */
  | { kind: 'skipped'; why: 'trimmed' | 'expired' }
  /** The consumer stopped before the handler ran (the entry waited for its rate limit): it stays pending, unrun. */
  | { kind: 'stopped' };
