/**
 * The transport: server, client, module, context, options and errors.
 *
 * @packageDocumentation
 * @module @nestream/transport
 */
export { RedisStreamsServer } from './server/redis-streams.server.js';
export { RedisStreamsClient } from './client/redis-streams.client.js';
export { RedisStreamRecord, RedisStreamRecordBuilder, type RedisStreamRecordOptions } from './client/redis-stream-record.js';
export { partitionOf, MAX_PARTITIONS } from './partition-routing.js';
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
  type RedisStreamsServerOptions,
  type RedisStreamsServerSettings,
  type ConsumerCleanupOptions,
} from './options/server.js';
export {
  DEFAULT_CLIENT_OPTIONS,
  type RedisStreamsClientOptions,
  type RedisStreamsClientSettings,
} from './options/client.js';
export type { RedisStreamsHandlerExtras } from './options/handler-extras.js';
export { DEFAULT_BACKOFF, type RetryOptions, type BackoffOptions } from './options/retry.js';
export type { ClaimOptions } from './options/claim.js';
export type { DeadLetterOptions } from './options/dead-letter.js';
export type { InlineConnectionOptions, ClusterConnectionOptions, ConnectionOptions } from './options/connection.js';
export type { DurabilityOptions } from './options/durability.js';
export type { RetentionOptions } from './options/retention.js';
export type { RateLimitOptions } from './options/rate-limit.js';
export {
  RedisStreamsStatus,
  type RedisStreamsEvents,
  type DeadLetteredEvent,
  type DeletedEvent,
  type HandlerFailedEvent,
  type LateCompletionEvent,
  type RetentionEvent,
} from './status.js';
export {
  InvalidOptionsError,
  UnrecoverableEventError,
  DecodeError,
  SettlementError,
  RequestTimeoutError,
  RedisUnavailableError,
  ClientClosedError,
  NoConsumerGroupError,
  DurabilityError,
  FatalConnectionError,
  RedisCommandError,
  PermissionError,
  PartitionError,
  type MissingPermission,
} from './errors/index.js';
export { DEAD_LETTER_FIELDS, type DeadLetterReason } from './consumer/dead-letter.js';
export { backoffDelay } from './consumer/backoff.js';
export {
  DEFAULT_METRICS_OPTIONS,
  type MetricsOptions,
  type MetricsRegistry,
  type TracingOptions,
  type TracingProvider,
} from './options/observability.js';
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
  FIELD_METADATA,
  FIELD_REPLY_TO,
  FIELD_DEADLINE,
  type DecodedMessage,
  type OutgoingMessage,
} from './wire/codec.js';
export {
  StreamsAdmin,
  StreamsAdminError,
  DEFAULT_ADMIN_OPTIONS,
  DeadLetters,
  REDRIVE_FIELDS,
  statusRates,
  checkEntryId,
  entryTime,
  type StreamsAdminOptions,
  type StreamsAdminErrorCode,
  type StreamsStatus,
  type StreamStatus,
  type GroupStatus,
  type ConsumerStatus,
  type DeadLetterStreamStatus,
  type StreamRates,
  type ListDeadLettersOptions,
  type DeadLetterList,
  type DeadLetterEntry,
  type RedriveOptions,
  type RedriveProgress,
  type RedriveResult,
  type RedrivenEntry,
  type PurgeOptions,
  type PurgeCount,
  type PurgeResult,
  type PruneConsumersOptions,
  type PruneConsumersResult,
  type TailOptions,
  type TailEntry,
} from './admin/index.js';
export { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './wire/decode-limits.js';
export {
  checkConsumerPermissions,
  checkProducerPermissions,
  consumerPermissionScope,
  type ConsumerPermissionScope,
  type PartitionPermissionScope,
  type ProducerPermissionScope,
} from './redis/permissions.js';
export type { RedisStreamsSerializer, RedisStreamsDeserializer } from './wire/serializer.js';
