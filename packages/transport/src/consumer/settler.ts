import type { LoggerService } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import type { ConsumerInstrumentation } from '../observability/instrumentation.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { redisErrorMessage } from '../redis/replies.js';
import type { EmitEvent } from '../events.js';
import type { Acker } from './acker.js';
import { deadLetterLimits, moveToDeadLetter, type DeadLetterResult } from './dead-letter.js';
import { describeError } from './describe-error.js';
import type { Decision } from './failure-policy.js';
import type { FailureRecord } from './failure-record.js';
import type { GoneEntries } from './gone-entries.js';
import type { Leases } from './leases.js';
import type { ReplyWriter } from './reply-writer.js';
import type { Route } from './route.js';
import type { StreamEntry } from './stream-entry.js';
import { doublingDelay } from './backoff.js';
import { withTraceId } from '../observability/trace-log.js';

// A dead-letter move Redis refused (OOM, NOPERM, connection lost) is tried again after 1 s, 2 s, ... 30 s.
const SETTLE_RETRY_MIN_MS = 1000;
const SETTLE_RETRY_MAX_MS = 30_000;

/** What became of a decision: carried out, ready for its retry, or left to the consumer that has the entry now. */
export type Settled = 'settled' | 'retrying' | 'dropped';

/** The options the settler reads. */
export type SettlerOptions = Pick<ResolvedServerOptions, 'group' | 'consumer' | 'deadLetter' | 'maxPayloadBytes' | 'failureLogs'>;

export interface SettlerDeps {
  redis: RedisClient;
  options: SettlerOptions;
  acker: Acker;
  leases: Leases;
  replies: ReplyWriter;
  logger: LoggerService;
  emit: EmitEvent;
  instrumentation: ConsumerInstrumentation;
  /** Handler failures counted in Redis: a takeover tells them from interrupted deliveries. */
  failures: FailureRecord;
  /** Reports entries found trimmed or deleted before they were settled. */
  gone: GoneEntries;
}

/**
 * Carries out a decision: acks, dead-letters (answering a request's caller first), or readies a retry
 * (recorded as a handler failure; the dispatcher schedules it); logs one line per failed attempt and emits
 * the typed events. Every dead letter, whatever its reason (handler failures, undecodable or oversized
 * entries, bytes not UTF-8, interrupted too often), is moved and reported here, and only here. A
 * settlement Redis refuses is retried on its own, never by running the handler again.
 */
export class Settler {
  private readonly retrying = new Map<StreamEntry, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly deps: SettlerDeps) {}

  /**
   * Carries out the decision: `settled` (done), `retrying` (ready for its retry) or `dropped` (another consumer
   * has the entry now). What needs no Redis round trip (an ack, which the acker sends with others; a leave; a
   * dead letter moved already) is done at once and answered as a plain value, the rest as a promise. Never
   * throws or rejects.
   */
  apply(route: Route, entry: StreamEntry, decision: Decision): Settled | Promise<Settled> {
    if (decision.kind === 'ack') {
      this.ack(entry, decision.skipped);
      return 'settled';
    }
    if (decision.kind === 'leave') {
      this.deps.leases.release(entry);
      return 'dropped';
    }
    if (decision.kind === 'deadLetter' && decision.moved) {
      this.reportDeadLetter(entry, route.deadLetterKey ?? false, decision.reason, describeError(decision.error));
      return 'settled';
    }
    return this.applyFailure(route, entry, decision);
  }

  /** A retry or a dead letter: the lease is confirmed first (a round trip unless it was touched recently). */
  private async applyFailure(route: Route, entry: StreamEntry, decision: Extract<Decision, { kind: 'retry' | 'deadLetter' }>): Promise<Settled> {
    if (!(decision.kind === 'deadLetter' && decision.beforeHandler)) this.reportFailure(route, entry, decision);
    if (!(await this.confirmLease(entry))) {
      // Our lease ran out (a stalled process, a lost renewal): another consumer may be running the entry
      // now. Retrying or dead-lettering it here could run it twice at once: leave it to that consumer.
      // Or the entry was trimmed meanwhile: then there is nothing to settle, only to report.
      this.deps.leases.release(entry);
      await this.reportLostLease(entry, decision.kind === 'retry' ? 'retried' : 'dead-lettered');
      return 'dropped';
    }
    if (decision.kind === 'retry') {
      this.deps.failures.record(entry);
      return 'retrying';
    }
    if (!route.isEvent && entry.message) {
      await this.deps.replies.sendError(entry.message, decision.wireError).catch(err => this.reportError(`Could not send the error reply of request ${entry.id} of ${entry.stream}`, err));
    }
    await this.deadLetter(route, entry, decision.reason, decision.error);
    return 'settled';
  }

  /** Forgets settlement retries (shutdown): those entries stay pending for whoever comes next. */
  stop(): void {
    this.stopped = true;
    for (const [entry, timer] of this.retrying) {
      clearTimeout(timer);
      this.deps.leases.release(entry);
    }
    this.retrying.clear();
  }

  private ack(entry: StreamEntry, skipped?: 'trimmed' | 'expired'): void {
    this.deps.leases.release(entry);
    // Found trimmed while its handler ran: reported and acked then.
    if (entry.gone) return;
    this.deps.acker.add(entry.stream, entry.id);
    if (entry.failures > 0) this.deps.failures.forget(entry);
    if (skipped === 'trimmed') this.deps.gone.counted(entry.stream, [entry.id], 'before its handler could run');
    else if (skipped === 'expired') {
      this.deps.logger.warn?.(`Skipped request ${entry.id} of ${entry.stream}: its caller timed out before it was handled`);
    }
  }

  private reportFailure(route: Route, entry: StreamEntry, decision: Exclude<Decision, { kind: 'ack' | 'leave' }>): void {
    const { name, message } = describeError(decision.error);
    // Attempts count handler failures only (FailureRecord): not the deliveries a crash interrupted.
    const attempt = entry.failures + 1;
    const line = `Handler for ${entry.stream} failed on entry ${entry.id} (attempt ${attempt}/${route.retry.maxAttempts}): ${name}: ${message}`;
    const stack = (decision.error as Error)?.stack;
    if (decision.kind === 'retry') {
      const next = withTraceId(`${line} -> retry in ${decision.delayMs} ms`, entry.message?.headers);
      if (this.deps.options.failureLogs === 'full' && stack) this.deps.logger.warn?.(`${next}\n${stack}`);
      else this.deps.logger.warn?.(next);
    } else {
      this.deps.logger.error(withTraceId(`${line} -> dead letter (${decision.reason})`, entry.message?.headers), stack);
    }
    this.deps.emit('failed', {
      stream: entry.stream, id: entry.id, attempt, error: decision.error,
      retryAt: decision.kind === 'retry' ? Date.now() + decision.delayMs : undefined,
    });
  }

  private async deadLetter(route: Route, entry: StreamEntry, reason: string, error: unknown, failures = 0): Promise<void> {
    const { redis, options, leases } = this.deps;
    const dlq = route.deadLetterKey ?? false;
    const described = describeError(error);
    let moved: DeadLetterResult;
    try {
      moved = await moveToDeadLetter(
        redis,
        {
          stream: entry.stream, id: entry.id, group: options.group, consumer: options.consumer,
          attempts: entry.deliveryCount, reason, error: described,
        },
        dlq,
        deadLetterLimits(options),
      );
    } catch (err) {
      // The handler's work is done: try the move again (keeping the entry's lease, so nobody re-runs it).
      if (this.stopped) return leases.release(entry);
      const delay = doublingDelay(SETTLE_RETRY_MIN_MS, SETTLE_RETRY_MAX_MS, failures);
      this.reportError(`Could not dead-letter entry ${entry.id} of ${entry.stream} (${reason}); trying the move again in ${delay} ms`, err);
      const timer = setTimeout(() => {
        this.retrying.delete(entry);
        void this.deadLetter(route, entry, reason, error, failures + 1);
      }, delay);
      this.retrying.set(entry, timer);
      return;
    }
    leases.release(entry);
    if (moved === 'notPending') {
      // Acked already: an earlier try of this move went through (its reply was lost), or another consumer
      // acked it. Copying it again would add a second dead letter.
      this.deps.logger.warn?.(`Entry ${entry.id} of ${entry.stream} was no longer pending at its dead-letter move (${reason}): moved by an earlier try whose reply was lost, or acked elsewhere; not copied again`);
      return;
    }
    this.deps.failures.forget(entry);
    if (moved === 'gone') {
      // Trimmed or deleted meanwhile: nothing was copied, only its pending reference acked.
      this.deps.gone.counted(entry.stream, [entry.id], `before its dead-letter move (${reason})`);
      return;
    }
    this.reportDeadLetter(entry, dlq, reason, described);
  }

  /** The one report of a dead letter: the log line, the metric (nestream_messages_dead_lettered_total), the event. */
  private reportDeadLetter(entry: StreamEntry, dlq: string | false, reason: string, described: { name: string; message: string }): void {
    this.deps.instrumentation.deadLettered(entry.stream, reason, { id: entry.id, deliveryCount: entry.deliveryCount, headers: entry.message?.headers ?? {} });
    if (dlq === false) {
      this.deps.logger.error(`Dropped entry ${entry.id} of ${entry.stream} (${reason}: ${described.message}); deadLetter is false`);
    } else {
      this.deps.logger.warn?.(`Dead-lettered entry ${entry.id} of ${entry.stream} to ${dlq} (${reason}: ${described.name}: ${described.message})`);
    }
    this.deps.emit('deadLettered', {
      stream: entry.stream, id: entry.id, deadLetterStream: dlq, reason, attempts: entry.deliveryCount, error: described,
    });
  }

  /**
   * The lease could not be confirmed: the entry was trimmed (reported as deleted, unless a renewal round
   * found and reported it already) or another consumer claimed it (it settles the entry now).
   */
  private async reportLostLease(entry: StreamEntry, notDone: string): Promise<void> {
    if (entry.gone) return;
    let takenOver: string[];
    try {
      takenOver = await this.deps.gone.sortOut(entry.stream, [entry.id], `before it could be ${notDone}`);
    } catch (err) {
      this.reportError(`Entry ${entry.id} of ${entry.stream}: lease lost, and whether it was trimmed or taken over could not be checked`, err);
      return;
    }
    if (takenOver.length > 0) {
      this.deps.logger.warn?.(`Entry ${entry.id} of ${entry.stream}: lease lost (claimed by another consumer), not ${notDone} here`);
    }
  }

  /** A Redis error while confirming counts as "still ours": the settlement itself will find out. */
  private confirmLease(entry: StreamEntry): Promise<boolean> {
    return this.deps.leases.confirm(entry).catch(() => entry.leaseIndex >= 0);
  }

  private reportError(what: string, err: unknown): void {
    this.deps.logger.error(`${what}: ${redisErrorMessage(err)}`);
    this.deps.emit('error', err);
  }
}
