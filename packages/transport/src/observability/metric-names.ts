/** The metric names, fixed (documented in docs/guide/monitoring.md; the dashboard queries them). */
export const METRIC_NAMES = {
  sent: 'nestream_messages_sent_total',
  processed: 'nestream_messages_processed_total',
  deadLettered: 'nestream_messages_dead_lettered_total',
  claimed: 'nestream_messages_claimed_total',
  retentionTrimmed: 'nestream_retention_trimmed_total',
  lateCompletions: 'nestream_partition_late_completions_total',
  trimmed: 'nestream_messages_trimmed_total',
  processDuration: 'nestream_process_duration_seconds',
  deliveryLatency: 'nestream_delivery_latency_seconds',
  groupPending: 'nestream_group_pending',
  groupLag: 'nestream_group_lag',
  streamLength: 'nestream_stream_length',
  deadLetterLength: 'nestream_dead_letter_length',
  handlersInFlight: 'nestream_handlers_in_flight',
} as const;
