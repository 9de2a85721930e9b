export { StreamsTestBed, type StreamsTestBedOptions } from './streams-test-bed.js';
export type { TestBed, BedEntry, BedDeadLetter, EmittedRecord } from './test-bed.js';
export { MemoryStreamsServer, type MemoryStreamsServerOptions, type RedeliverMode } from './memory-streams.server.js';
export { MemoryStreamsClient, type MemoryStreamsClientOptions } from './memory-streams.client.js';
export { VirtualClock } from './virtual-clock.js';
export { StreamsTestBedClientsModule, type TestBedClientRegistration } from './test-bed-clients.module.js';
export { RedisTestBed, type RedisTestBedOptions } from './redis-test-bed.js';
export { CountingRedisStreamsServer, RecordingRedisStreamsClient } from './recording-redis-streams.js';
export { startThrowawayRedis, type ThrowawayRedis } from './throwaway-redis.js';
