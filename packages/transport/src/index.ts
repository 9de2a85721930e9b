export { RedisStreamsServer } from './server/redis-streams.server.js';
export { RedisStreamsClient } from './client/redis-streams.client.js';
export { RedisStreamRecord, RedisStreamRecordBuilder } from './client/redis-stream-record.js';
export {
  RedisStreamsModule,
  REDIS_STREAMS_CLIENT,
  type RedisStreamsClientRegistration,
  type RedisStreamsClientAsyncRegistration,
  type RedisStreamsModuleOptions,
} from './module/redis-streams.module.js';
export { RedisStreamContext, type Settlement } from './ctx-host/redis-stream.context.js';
export { RedisStreamBatchContext, type BatchEntry } from './ctx-host/redis-stream-batch.context.js';
export {
  DEFAULT_SERVER_OPTIONS,
  REDIS_STREAMS_TRANSPORT,
  DEFAULT_BACKOFF,
  type RedisStreamsServerOptions,
  type RedisStreamsClientOptions,
  type RedisStreamsHandlerExtras,
  type RetryOptions,
  type BackoffOptions,
  type ClaimOptions,
  type DeadLetterOptions,
  type ConsumerCleanupOptions,
  type ConnectionOptions,
} from './options.js';
export { RedisStreamsStatus, type RedisStreamsEvents, type DeadLetteredEvent, type HandlerFailedEvent } from './status.js';
export { InvalidOptionsError, UnrecoverableEventError, DecodeError, SettlementError, RequestTimeoutError } from './errors/index.js';
export { DEAD_LETTER_FIELDS, type DeadLetterReason } from './consumer/dead-letter.js';
export { backoffDelay } from './consumer/backoff.js';
export {
  DEFAULT_METRICS_OPTIONS,
  type MetricsOptions,
  type MetricsRegistry,
  type TracingOptions,
  type TracingProvider,
} from './observability/observability-options.js';
export { METRIC_NAMES } from './observability/metric-names.js';
export { traceIdOf } from './observability/trace-log.js';
export {
  encode,
  decode,
  WIRE_VERSION,
  FIELD_VERSION,
  FIELD_DATA,
  FIELD_CORRELATION_ID,
  FIELD_HEADERS,
  FIELD_REPLY_TO,
  FIELD_DEADLINE,
  type DecodedMessage,
  type OutgoingMessage,
} from './wire/codec.js';
