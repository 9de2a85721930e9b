/** The status name is also the event name emitted through `on()`. */
export const RedisStreamsStatus = {
  CONNECTED: 'connected',
  DISCONNECTED: 'disconnected',
  RECONNECTING: 'reconnecting',
} as const;
export type RedisStreamsStatus = (typeof RedisStreamsStatus)[keyof typeof RedisStreamsStatus];

export type {
  DeadLetteredEvent, DeletedEvent, HandlerFailedEvent, LateCompletionEvent, RedisStreamsEvents, RetentionEvent,
} from './events.js';
