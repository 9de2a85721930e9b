export { StreamsTestBed, type StreamsTestBedOptions, type BedEntry, type BedDeadLetter } from './streams-test-bed.js';
export { MemoryStreamsServer, type MemoryStreamsServerOptions, type RedeliverMode } from './memory-streams.server.js';
export { MemoryStreamsClient, type MemoryStreamsClientOptions, type EmittedRecord } from './memory-streams.client.js';
export { VirtualClock } from './virtual-clock.js';
export { StreamsTestBedClientsModule, type TestBedClientRegistration } from './test-bed-clients.module.js';
