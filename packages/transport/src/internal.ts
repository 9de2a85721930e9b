/**
 * `@nestream/transport/internal`: the consumer's policy parts, for `@nestream/testing` (its in-memory broker runs
 * the same code as the real consumer, so the two cannot drift). Not a public API: it may change in any release.
 */
export { Attempt, type AttemptDeps } from './consumer/attempt.js';
export type { AttemptClock } from './consumer/attempt-clock.js';
export type { AttemptResult } from './consumer/attempt-result.js';
export { decide, INTERNAL_ERROR, type Decision } from './consumer/failure-policy.js';
export type { RateLimitGate } from './consumer/rate-limit-gate.js';
export { installErrorCapture } from './consumer/error-capture.js';
export { describeError } from './consumer/describe-error.js';
export { deadLetterFields } from './consumer/dead-letter.js';
export { ProcessingHooks, type ProcessingHookHost } from './consumer/processing-hooks.js';
export { streamEntry, type StreamEntry } from './consumer/stream-entry.js';
export { ReplyWriter, type AppendReply } from './consumer/reply-writer.js';
export type { Route } from './consumer/route.js';
export { buildRoutes } from './server/build-routes.js';
export { StreamKeys } from './keys.js';
export { resolveServerOptions, type ResolvedServerOptions } from './options/server.js';
export { resolveClientOptions, type ResolvedClientOptions } from './options/client.js';
export { deadLetterKeyOf, defaultDeadLetterKey } from './options/dead-letter.js';
export { encodeReply, decodeReply, type ReplyPacket } from './wire/reply.js';
export { brand } from './brand.js';
export { NO_INSTRUMENTATION } from './observability/instrumentation.js';
export { createRedis, quitOrDisconnect } from './redis/create-redis.js';
export type { RedisClient } from './redis/redis-client.js';
