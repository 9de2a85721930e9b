/**
 * Operating streams from code (`StreamsAdmin`), without loading Nest: what the `nestream` CLI runs.
 *
 * @packageDocumentation
 * @module @nestream/transport/admin
 */
export { StreamsAdmin } from './streams-admin.js';
export { DEFAULT_ADMIN_OPTIONS, type StreamsAdminOptions } from './admin-options.js';
export type { ClusterConnectionOptions, ConnectionOptions } from '../options/connection.js';
export { isClusterConnection } from '../redis/redis-client.js';
export { describeConnection } from '../redis/describe-connection.js';
export { redactRedisUrl } from '../redis/redis-url.js';
export { StreamsAdminError, type StreamsAdminErrorCode } from './streams-admin.error.js';
export type { StreamsStatus, StreamStatus, GroupStatus, ConsumerStatus, DeadLetterStreamStatus, RetainedFrom } from './status.js';
export { statusRates, type StreamRates } from './rates.js';
export { DeadLetters, type ListDeadLettersOptions, type DeadLetterList, type DeadLetterPageOptions, type DeadLetterPage } from './dead-letters.js';
export { MAX_PAGE_SIZE, type BrowseOptions, type EntryPage, type StreamEntry } from './browse.js';
export type { PendingListOptions, PendingList, PendingEntry } from './pending-list.js';
export { REDRIVE_FIELDS, type DeadLetterEntry } from './dead-letter-entry.js';
export type { RedriveOptions, RedriveProgress, RedriveResult, RedrivenEntry } from './redrive.js';
export type { PurgeOptions, PurgeCount, PurgeResult } from './purge.js';
export type { PruneConsumersOptions, PruneConsumersResult } from './prune-consumers.js';
export type { TailOptions, TailEntry } from './tail.js';
export type { ScheduledEntry, ScheduledList } from './scheduled.js';
export type { GroupPosition, ResetGroupOptions, CreateGroupOptions, GroupMove, GroupMoveResult } from './groups.js';
export { checkEntryId, entryTime } from './entry-id.js';
