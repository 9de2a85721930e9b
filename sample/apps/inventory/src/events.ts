/** Injection token of the RedisStreamsClient the inventory publishes its decisions with. */
export const EVENTS = 'EVENTS';
