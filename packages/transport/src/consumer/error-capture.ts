import { RpcExceptionsHandler } from '@nestjs/microservices/exceptions/rpc-exceptions-handler.js';
import { RedisStreamContext } from '../ctx-host/redis-stream.context.js';
import { RedisStreamBatchContext } from '../ctx-host/redis-stream-batch.context.js';

const INSTALLED = Symbol.for('nestream.errorCapture');

type LoggerLike = { error: (...args: unknown[]) => void };

const SILENT: LoggerLike = { error: () => undefined };

/**
 * Nest's default RPC exception filter replaces a plain Error with
 * `{ status: 'error', message: 'Internal server error' }` before the transport sees it, and dead letters
 * and logs need the real error. Every handler error (guards, pipes and interceptors included) passes
 * through `RpcExceptionsHandler.handle(exception, host)`, whose host carries the handler's arguments:
 * when the second one is our context, the original exception is recorded on it, then Nest goes on as
 * usual. Other transports and the filters' behaviour are untouched.
 *
 * For our contexts only, the filter's own log of the error (its full stack, on every attempt) is dropped:
 * the transport logs one line per failed attempt itself, with the stack when it gives up (every time with
 * `failureLogs: 'full'`). Sent to debug instead, it still showed at Nest's default log levels, which
 * include debug: two lines per failed attempt.
 */
export function installErrorCapture(): void {
  const proto = RpcExceptionsHandler.prototype as unknown as Record<PropertyKey, unknown>;
  if (proto[INSTALLED]) return;
  // BaseRpcExceptionFilter: its static `logger` is what the filter logs unknown errors with.
  const filterClass = Object.getPrototypeOf(RpcExceptionsHandler) as { logger?: LoggerLike };
  const original = proto.handle as (this: unknown, exception: unknown, host: { getArgByIndex(i: number): unknown }, ...rest: unknown[]) => unknown;
  proto.handle = function handle(this: unknown, exception: unknown, host: { getArgByIndex(i: number): unknown }, ...rest: unknown[]) {
    const ctx = host?.getArgByIndex?.(1);
    if (!(ctx instanceof RedisStreamContext || ctx instanceof RedisStreamBatchContext)) return original.call(this, exception, host, ...rest);
    if (ctx.handlerError === undefined) ctx.handlerError = exception;
    const logger = filterClass.logger;
    if (!logger) return original.call(this, exception, host, ...rest);
    filterClass.logger = SILENT;
    try {
      return original.call(this, exception, host, ...rest);
    } finally {
      filterClass.logger = logger;
    }
  };
  proto[INSTALLED] = true;
}
