import type { Redis } from 'ioredis';
import { isObservable, lastValueFrom } from 'rxjs';
import type { LoggerService } from '@nestjs/common';
import { RpcException, type MessageHandler } from '@nestjs/microservices';
import { RedisStreamContext } from '../ctx-host/redis-stream.context.js';
import { RedisStreamBatchContext } from '../ctx-host/redis-stream-batch.context.js';
import { DecodeError } from '../errors/decode.error.js';
import { UnrecoverableEventError } from '../errors/unrecoverable-event.error.js';
import type { ResolvedRetry, ResolvedServerOptions } from '../options.js';
import { decode, type DecodedMessage } from '../wire/codec.js';
import type { Acker } from './acker.js';
import { backoffDelay } from './backoff.js';
import { moveToDeadLetter, type DeadLetterReason } from './dead-letter.js';
import { describeError } from './describe-error.js';
import type { Leases } from './leases.js';
import type { ReplyWriter } from './reply-writer.js';
import type { StreamEntry } from './stream-entry.js';
import { bodySizeOf, NO_INSTRUMENTATION, type ConsumerInstrumentation } from '../observability/instrumentation.js';


/** What the transport knows about the handler of one stream. */
export interface Route {
  stream: string;
  pattern: string;
  handler: MessageHandler;
  /** @EventPattern (true) or @MessagePattern (false). */
  isEvent: boolean;
  retry: ResolvedRetry;
  ordered: boolean;
  /** Handler takes an array of payloads (extras `{ batch: true }`). */
  batch: boolean;
}

/** After one attempt: the entry is settled (acked or dead-lettered), or it must be retried after a delay. */
export type Outcome = { retryInMs?: undefined } | { retryInMs: number };

const SETTLED: Outcome = {};
const INVOKED = { ok: true } as const;
/** What Nest's default RPC exception filter answers for an error that is not an RpcException. */
const INTERNAL_ERROR = { status: 'error', message: 'Internal server error' };

export interface ProcessorDeps {
  redis: Redis;
  options: ResolvedServerOptions;
  acker: Acker;
  leases: Leases;
  replies: ReplyWriter;
  logger: LoggerService;
  emit: (event: string, payload: unknown) => void;
  instrumentation: ConsumerInstrumentation;
}

/** Runs one attempt of one entry: decode, call the handler, then ack, dead-letter, or ask for a retry. */
export class EntryProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async process(route: Route, entry: StreamEntry): Promise<Outcome> {
    const { options } = this.deps;
    const admitted = this.admit(route, entry);
    if (admitted === undefined) return SETTLED;
    if (admitted instanceof Promise) {
      await admitted;
      return SETTLED;
    }
    const message = admitted;

    const ctx = new RedisStreamContext([
      entry.stream, entry.id, options.group, options.consumer, entry.deliveryCount, message.headers, route.pattern,
    ]);
    const observation = this.deps.instrumentation === NO_INSTRUMENTATION ? undefined : this.deps.instrumentation.attempt({
      stream: entry.stream, group: options.group, pattern: route.pattern, batch: false,
      entries: [{ id: entry.id, deliveryCount: entry.deliveryCount, headers: message.headers, bodySize: bodySizeOf(entry.fields) }],
    });
    const result = await (observation ? observation.run(() => this.invoke(route, message, ctx)) : this.invoke(route, message, ctx));
    observation?.end([result.ok ? 'success' : 'failure'], result.ok ? undefined : result.error);

    if (options.ack === 'manual' && ctx.settlement) {
      const s = ctx.settlement;
      if (s.kind === 'ack') return this.succeed(entry);
      if (s.kind === 'deadLetter') {
        await this.deadLetter(entry, 'manual', { name: 'ManualDeadLetter', message: s.reason });
        return SETTLED;
      }
      return this.fail(route, entry, message, result.ok ? new Error('handler asked for a retry') : result.error, s.delayMs);
    }
    if (!result.ok) return this.fail(route, entry, message, result.error, undefined, result.wireError);
    if (options.ack === 'manual') {
      return this.fail(route, entry, message, new Error('handler returned without settling the entry (ack: manual)'));
    }
    return this.succeed(entry);
  }

  /**
   * Batch handler (`{ batch: true }`): one call with the payloads of several entries of one stream.
   * Success acks every entry the handler did not mark with ctx.fail(); a throw fails them all. Each failed
   * entry then follows the retry / dead-letter rules on its own. Returns one outcome per entry.
   */
  async processBatch(route: Route, entries: StreamEntry[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = entries.map(() => SETTLED);
    const admitted: Array<{ index: number; entry: StreamEntry; message: DecodedMessage }> = [];
    for (let i = 0; i < entries.length; i++) {
      const message = this.admit(route, entries[i]);
      if (message instanceof Promise) await message;
      else if (message) admitted.push({ index: i, entry: entries[i], message });
    }
    if (admitted.length === 0) return outcomes;
    const { options } = this.deps;
    const ctx = new RedisStreamBatchContext([
      route.stream,
      options.group,
      options.consumer,
      admitted.map(a => ({ id: a.entry.id, deliveryCount: a.entry.deliveryCount, headers: a.message.headers })),
      route.pattern,
    ]);
    let thrown: { error: unknown } | undefined;
    const observation = this.deps.instrumentation.attempt({
      stream: route.stream, group: options.group, pattern: route.pattern, batch: true,
      entries: admitted.map(a => ({ id: a.entry.id, deliveryCount: a.entry.deliveryCount, headers: a.message.headers, bodySize: bodySizeOf(a.entry.fields) })),
    });
    try {
      await observation.run(async () => {
        const result = await route.handler(admitted.map(a => a.message.data), ctx);
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      });
    } catch (err) {
      thrown = { error: ctx.handlerError ?? err };
    }
    const failures = ctx.failures;
    observation.end(admitted.map((_, k) => (thrown || failures.has(k) ? 'failure' : 'success')), thrown?.error);
    for (let k = 0; k < admitted.length; k++) {
      const { index, entry, message } = admitted[k];
      const error = thrown ? thrown.error : failures.get(k);
      outcomes[index] = error === undefined ? this.succeed(entry) : await this.fail(route, entry, message, error);
    }
    return outcomes;
  }

  /**
   * Everything before the handler call: drops trimmed ids, dead-letters undecodable entries and entries
   * delivered too often, skips requests whose caller gave up. Returns the message to hand over; otherwise
   * undefined, or the promise of the dead-letter move. Synchronous on the hot path: no await per entry.
   */
  private admit(route: Route, entry: StreamEntry): DecodedMessage | Promise<void> | undefined {
    const { options } = this.deps;
    if (!entry.fields) {
      // Trimmed while pending: nothing to hand over, only the pending reference to drop.
      this.ack(entry);
      this.deps.emit('deleted', { stream: entry.stream, ids: [entry.id] });
      return undefined;
    }
    let message: DecodedMessage;
    try {
      message = decode(entry.fields, options.maxPayloadBytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return this.deadLetter(entry, 'decode', err);
    }
    if (entry.deliveryCount > route.retry.maxAttempts) {
      // Delivered more often than allowed without a recorded failure: a consumer died while handling it.
      const error = new Error(
        `delivered ${entry.deliveryCount} times, more than retry.maxAttempts (${route.retry.maxAttempts}); consumers may have crashed while handling it`,
      );
      error.name = 'MaxAttemptsExceeded';
      return this.deadLetter(entry, 'max-attempts', error);
    }
    if (!route.isEvent && message.deadline !== undefined && message.deadline <= Date.now()) {
      // The caller has stopped waiting: running the handler would only produce a reply nobody reads.
      this.deps.logger.warn?.(`Skipped request ${entry.id} of ${entry.stream}: its caller timed out before it was handled`);
      this.ack(entry);
      return undefined;
    }
    return message;
  }

  private async invoke(
    route: Route,
    message: DecodedMessage,
    ctx: RedisStreamContext,
  ): Promise<{ ok: true } | { ok: false; error: unknown; wireError: unknown }> {
    try {
      const result = await route.handler(message.data, ctx);
      if (!route.isEvent) {
        await this.deps.replies.send(message, result);
      } else if (isObservable(result)) {
        await lastValueFrom(result, { defaultValue: undefined });
      }
      return INVOKED;
    } catch (err) {
      // The real error, not the `{ status, message }` Nest's exception filter turned it into.
      const error = ctx.handlerError ?? err;
      if (!route.isEvent && error instanceof RpcException) {
        // An RpcException is the handler's answer, as with Nest's built-in transports: reply it, no retry.
        await this.deps.replies.sendError(message, err);
        return INVOKED;
      }
      return { ok: false, error, wireError: err };
    }
  }

  private succeed(entry: StreamEntry): Outcome {
    this.ack(entry);
    return SETTLED;
  }

  private ack(entry: StreamEntry): void {
    this.deps.leases.delete(entry);
    this.deps.acker.add(entry.stream, entry.id);
  }

  private async fail(
    route: Route,
    entry: StreamEntry,
    message: DecodedMessage,
    error: unknown,
    delayMs?: number,
    wireError: unknown = INTERNAL_ERROR,
  ): Promise<Outcome> {
    const attempt = entry.deliveryCount;
    const unrecoverable = error instanceof UnrecoverableEventError || isValidationError(error);
    const last = unrecoverable || attempt >= route.retry.maxAttempts;
    const { name, message: text } = describeError(error);
    const retryInMs = last ? undefined : (delayMs ?? backoffDelay(route.retry.backoff, attempt));
    // Nest's exception handler has already logged the error with its stack: one line of what happens next.
    const line = `Handler for ${entry.stream} failed on entry ${entry.id} (attempt ${attempt}/${route.retry.maxAttempts}): ${name}: ${text}`;
    if (last) this.deps.logger.error(`${line} -> dead letter`);
    else this.deps.logger.warn?.(`${line} -> retry in ${retryInMs} ms`);
    this.deps.emit('failed', {
      stream: entry.stream, id: entry.id, attempt, error,
      retryAt: retryInMs === undefined ? undefined : Date.now() + retryInMs,
    });
    if (retryInMs !== undefined) return { retryInMs };
    const reason: DeadLetterReason = isValidationError(error) ? 'validation' : unrecoverable ? 'unrecoverable' : 'max-attempts';
    if (!route.isEvent) await this.deps.replies.sendError(message, wireError);
    await this.deadLetter(entry, reason, error);
    return SETTLED;
  }

  async deadLetter(entry: StreamEntry, reason: DeadLetterReason, error: unknown): Promise<void> {
    const { redis, options, leases } = this.deps;
    const dlq = options.deadLetter === false ? false : options.deadLetter.key(entry.stream);
    const described = describeError(error);
    await moveToDeadLetter(
      redis,
      {
        stream: entry.stream, id: entry.id, fields: entry.fields ?? [], group: options.group, consumer: options.consumer,
        attempts: entry.deliveryCount, reason, error: described,
      },
      dlq,
      options.deadLetter === false ? undefined : options.deadLetter.maxLen,
    );
    leases.delete(entry);
    this.deps.instrumentation.deadLettered(entry.stream, reason, { id: entry.id, deliveryCount: entry.deliveryCount, headers: headersOf(entry) });
    if (dlq === false) {
      this.deps.logger.error(`Dropped entry ${entry.id} of ${entry.stream} (${reason}: ${described.message}); deadLetter is false`);
    } else {
      this.deps.logger.warn?.(`Dead-lettered entry ${entry.id} of ${entry.stream} to ${dlq} (${reason}: ${described.name}: ${described.message})`);
    }
    this.deps.emit('deadLettered', {
      stream: entry.stream, id: entry.id, deadLetterStream: dlq, reason, attempts: entry.deliveryCount, error: described,
    });
  }
}

/** A ValidationPipe failure (BadRequestException) will fail the same way on every attempt. */
function isValidationError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; getStatus?: unknown };
  return e.name === 'BadRequestException' && typeof e.getStatus === 'function';
}

/** The headers of an entry being dead-lettered (an undecodable one may have none that can be read). */
function headersOf(entry: StreamEntry): Record<string, string> {
  try {
    return decode(entry.fields).headers;
  } catch {
    return {};
  }
}
