import { isObservable, lastValueFrom } from 'rxjs';
import { RpcException } from '@nestjs/microservices';
import { RedisStreamContext } from '../ctx-host/redis-stream.context.js';
import { RedisStreamBatchContext } from '../ctx-host/redis-stream-batch.context.js';
import { DecodeError } from '../errors/decode.error.js';
import { HandlerTimeoutError } from '../errors/handler-timeout.error.js';
import { ReplyWriteError } from '../errors/reply-write.error.js';
import { bodySizeOf, NO_INSTRUMENTATION, type AttemptObservation, type ConsumerInstrumentation } from '../observability/instrumentation.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { decode, type DecodedMessage } from '../wire/codec.js';
import type { AttemptResult } from './attempt-result.js';
import { INTERNAL_ERROR } from './failure-policy.js';
import type { ProcessingHooks } from './processing-hooks.js';
import type { RateLimitGate } from './rate-limit-gate.js';
import type { ReplyWriter } from './reply-writer.js';
import { SYSTEM_CLOCK, type AttemptClock } from './attempt-clock.js';
import type { Route } from './route.js';
import type { StreamEntry } from './stream-entry.js';

const HANDLED: AttemptResult = { kind: 'handled' };
const TRIMMED: AttemptResult = { kind: 'skipped', why: 'trimmed' };
const EXPIRED: AttemptResult = { kind: 'skipped', why: 'expired' };
const STOPPED: AttemptResult = { kind: 'stopped' };

export interface AttemptDeps {
  options: ResolvedServerOptions;
  replies: ReplyWriter;
  instrumentation: ConsumerInstrumentation;
  /** Nest 12's processing start/end hooks, around each handler run. */
  hooks: ProcessingHooks;
  /** A request's reply could not be written (the handler ran; its caller will time out). */
  onReplyError: (entry: StreamEntry, err: unknown) => void;
  /** Time for request deadlines and handlerTimeoutMs. @default the system clock (the test kit passes a virtual one) */
  clock?: AttemptClock;
  /** Where an entry of a rate-limited handler (`route.rateLimit`) waits for its turn. */
  rateLimits: RateLimitGate;
}

/**
 * One attempt: admits the entry (decoded, not delivered too often, its caller still waiting), calls the
 * handler, and says how it ended. It decides nothing about what follows: that is the failure policy's.
 */
export class Attempt {
  /** Whether to build an observation per call at all (nothing is allocated for it when off). */
  private readonly instrumented: boolean;
  private readonly clock: AttemptClock;

  constructor(private readonly deps: AttemptDeps) {
    this.instrumented = deps.instrumentation !== NO_INSTRUMENTATION;
    this.clock = deps.clock ?? SYSTEM_CLOCK;
  }

  /**
   * `fencingToken`: of an ordered partition, the generation of the lease it runs under (`ctx.getFencingToken()`).
   * Never rejects, but for a bug. Promise chains rather than async functions: this runs once per entry, and
   * every async layer costs a promise and a turn of the microtask queue.
   */
  run(route: Route, entry: StreamEntry, fencingToken?: number): Promise<AttemptResult> {
    try {
      const refused = this.admit(route, entry);
      if (refused) return Promise.resolve(refused);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!route.rateLimit) return this.handle(route, entry, fencingToken);
    return this.deps.rateLimits.take(route).then(admitted => (admitted ? this.handle(route, entry, fencingToken) : STOPPED));
  }

  /** Calls the handler of an admitted entry (`entry.message` set) and says how the call ended. */
  private handle(route: Route, entry: StreamEntry, fencingToken: number | undefined): Promise<AttemptResult> {
    const message = entry.message!;
    const { options, hooks } = this.deps;
    const ctx = new RedisStreamContext([
      entry.stream, entry.id, options.group, options.consumer, entry.deliveryCount, message.headers, route.pattern, route.partition?.index, fencingToken,
      message.metadata,
    ]);
    const observation = this.instrumented
      ? this.deps.instrumentation.attempt({
          stream: entry.stream, group: options.group, pattern: route.pattern, batch: false,
          entries: [{ id: entry.id, deliveryCount: entry.deliveryCount, headers: message.headers, bodySize: bodySizeOf(entry.fields) }],
        })
      : undefined;
    let calling: Promise<unknown>;
    try {
      if (observation) calling = observation.run(() => hooks.run(ctx, () => this.call(route, entry, message, ctx)));
      else calling = hooks.inUse() ? hooks.run(ctx, () => this.call(route, entry, message, ctx)) : this.call(route, entry, message, ctx);
    } catch (err) {
      calling = Promise.reject(err);
    }
    return this.withTimeout(calling).then(
      (): AttemptResult => {
        if (options.ack !== 'manual') {
          observation?.end(['success'], undefined);
          return HANDLED;
        }
        observation?.end([ctx.settlement?.kind === 'ack' ? 'success' : 'failure'], undefined);
        return { kind: 'manual', settlement: ctx.settlement };
      },
      err => this.failed(route, entry, message, ctx, err, observation),
    );
  }

  /** The call threw, rejected, errored or timed out: a failure, a manual settlement, or a request's answer. */
  private async failed(
    route: Route, entry: StreamEntry, message: DecodedMessage, ctx: RedisStreamContext, err: unknown, observation: AttemptObservation | undefined,
  ): Promise<AttemptResult> {
    const { options } = this.deps;
    // The real error, not the `{ status, message }` Nest's exception filter turned it into.
    const error = ctx.handlerError ?? err;
    let result: AttemptResult;
    if (!route.isEvent && error instanceof RpcException) {
      // An RpcException is the handler's answer, as with Nest's built-in transports: reply it, no retry.
      await this.reply(entry, () => this.deps.replies.sendError(message, err));
      result = HANDLED;
    } else if (options.ack === 'manual' && ctx.settlement) {
      result = { kind: 'manual', settlement: ctx.settlement, error };
    } else {
      result = { kind: 'failed', error, wireError: err instanceof HandlerTimeoutError ? INTERNAL_ERROR : err };
    }
    observation?.end([result.kind === 'handled' || (result.kind === 'manual' && result.settlement?.kind === 'ack') ? 'success' : 'failure'], failureOf(result));
    return result;
  }

  /**
   * A batch handler's call (`{ batch: true }`): one call with the payloads of several entries of one stream.
   * Success handles every entry the handler did not mark with ctx.fail(); a throw fails them all.
   * Returns one result per entry, index by index.
   */
  async runBatch(route: Route, entries: StreamEntry[]): Promise<AttemptResult[]> {
    const results: AttemptResult[] = new Array(entries.length);
    const admitted: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const refused = this.admit(route, entries[i]);
      if (refused) results[i] = refused;
      else admitted.push(i);
    }
    if (admitted.length === 0) return results;
    const { options } = this.deps;
    const infos = admitted.map(i => ({
      id: entries[i].id, deliveryCount: entries[i].deliveryCount, headers: entries[i].message!.headers, metadata: entries[i].message!.metadata,
      // For the instrumentation only (a byte count per entry): not measured when it is off.
      bodySize: this.instrumented ? bodySizeOf(entries[i].fields) : undefined,
    }));
    const ctx = new RedisStreamBatchContext([route.stream, options.group, options.consumer, infos, route.pattern, route.partition?.index]);
    const observation = this.instrumented
      ? this.deps.instrumentation.attempt({ stream: route.stream, group: options.group, pattern: route.pattern, batch: true, entries: infos })
      : undefined;
    let thrown: { error: unknown } | undefined;
    try {
      const call = () =>
        this.deps.hooks.run(ctx, async () => {
          const value = await route.handler(admitted.map(i => entries[i].message!.data), ctx);
          if (isObservable(value)) await lastValueFrom(value, { defaultValue: undefined });
        });
      await this.withTimeout(observation ? observation.run(call) : call());
    } catch (err) {
      thrown = { error: ctx.handlerError ?? err };
    }
    admitted.forEach((index, k) => {
      const error = thrown ? thrown.error : ctx.failures.get(k);
      results[index] = error === undefined ? HANDLED : { kind: 'failed', error, wireError: INTERNAL_ERROR };
    });
    observation?.end(admitted.map(i => (results[i].kind === 'handled' ? 'success' : 'failure')), thrown?.error);
    return results;
  }

  /**
   * Everything before the handler call, synchronous (no await per entry on the hot path): trimmed ids,
   * entries the screens refused (not UTF-8, oversized), undecodable entries, entries delivered too often,
   * requests whose caller gave up. Returns why the entry is not handed over, or undefined with `entry.message` set.
   */
  private admit(route: Route, entry: StreamEntry): AttemptResult | undefined {
    // Gone: found trimmed (and reported) while it waited for a slot. Screened: refused (or found gone) before
    // submission (see StreamEntry.screened). No fields: an id whose entry was trimmed.
    if (entry.gone) return TRIMMED;
    if (entry.screened) return entry.screened;
    if (!entry.fields) return TRIMMED;
    try {
      entry.message = decode(entry.fields, this.deps.options.decodeLimits, this.deps.options.deserializer);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return { kind: 'rejected', reason: 'decode', error: err };
    }
    // Deliveries that ended without a recorded failure were interrupted: a consumer crashed, stalled or
    // stopped while handling the entry. Never a handler failure (maxAttempts), but bounded: a poison pill
    // that crashes every consumer must stop somewhere.
    const interrupted = entry.deliveryCount - 1 - entry.failures;
    if (interrupted > route.retry.maxInterruptions) {
      const error = new Error(
        `delivered ${entry.deliveryCount} times, ${interrupted} of them interrupted before the handler finished (more than retry.maxInterruptions, ${route.retry.maxInterruptions}): consumers crashed, stalled or were stopped while handling it`,
      );
      error.name = 'MaxInterruptionsExceeded';
      return { kind: 'rejected', reason: 'interrupted', error };
    }
    const deadline = entry.message.deadline;
    // The caller has stopped waiting: running the handler would only produce a reply nobody reads.
    if (!route.isEvent && deadline !== undefined && deadline <= this.clock.now()) return EXPIRED;
    return undefined;
  }

  /**
   * Calls the handler; a request's values are written to its caller's reply stream as they come. An event
   * handler's Observable is run to its end (Nest's exception filter answers an error with an erroring one).
   */
  private call(route: Route, entry: StreamEntry, message: DecodedMessage, ctx: RedisStreamContext): Promise<void> {
    const returned = Promise.resolve(route.handler(message.data, ctx));
    if (!route.isEvent) return returned.then(value => this.reply(entry, () => this.deps.replies.send(message, value)));
    return returned.then(runToEnd);
  }

  /**
   * Writes a reply. The handler has run by now: a failed write is reported (its caller times out), never
   * counted as a handler failure that would run the handler again. An erroring Observable still fails.
   */
  private async reply(entry: StreamEntry, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (!(err instanceof ReplyWriteError)) throw err;
      this.deps.onReplyError(entry, err);
    }
  }

  /** With handlerTimeoutMs, a handler that has not settled by then counts as failed (it is not cancelled). */
  private withTimeout(call: Promise<unknown>): Promise<unknown> {
    const ms = this.deps.options.handlerTimeoutMs;
    if (ms === undefined) return call;
    let cancel!: () => void;
    const timeout = new Promise<never>((_, reject) => {
      cancel = this.clock.setTimeout(() => reject(new HandlerTimeoutError(ms)), ms);
    });
    return Promise.race([call, timeout]).finally(() => cancel());
  }
}

/** An event handler's value: an Observable is subscribed to and waited for; anything else is done. */
function runToEnd(value: unknown): Promise<void> | undefined {
  return isObservable(value) ? lastValueFrom(value, { defaultValue: undefined }).then(() => undefined) : undefined;
}

function failureOf(result: AttemptResult): unknown {
  if (result.kind === 'failed') return result.error;
  if (result.kind === 'manual') return result.error;
  return undefined;
}
