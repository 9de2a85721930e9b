import type { DynamicModule } from '@nestjs/common';
import type { ClientProxy, CustomTransportStrategy } from '@nestjs/microservices';
import type { RedisStreamsServerOptions, RedisStreamsServerSettings } from '@nestream/transport';

/** An entry of a pattern's stream, decoded. */
export interface BedEntry {
  stream: string;
  id: string;
  data: unknown;
  headers: Record<string, string>;
  /** The wire fields as stored. */
  fields: Record<string, string>;
}

/** A dead letter: the entry as it was, and the `dlq.*` fields the transport adds. */
export interface BedDeadLetter {
  /** The source stream and the entry's id there. */
  stream: string;
  id: string;
  reason: string;
  error: { name: string; message: string };
  attempts: number;
  group: string;
  consumer: string;
  failedAt: string;
  /** The entry's payload, decoded if it can be (else the raw `data` field). */
  data: unknown;
  fields: Record<string, string>;
}

/** One event or request a bed client wrote, for producer tests. */
export interface EmittedRecord {
  pattern: string;
  /** The stream written (a partition's, for a partitioned pattern; unknown to the Redis bed: ''). */
  stream: string;
  id: string;
  data: unknown;
  headers: Record<string, string>;
  partitionKey?: string;
  /** `send()` (a request) rather than `emit()` / `emitMany()`. */
  request: boolean;
}

/** What both beds offer: the in-memory one (`new StreamsTestBed()`) and the Redis one (`StreamsTestBed.redis()`). */
export interface TestBed {
  server(options: (RedisStreamsServerSettings | RedisStreamsServerOptions) & { redeliver?: 'never' | 'always' | 'crash' }): CustomTransportStrategy;
  client(options?: object): ClientProxy;
  clientsModule(registrations?: Array<{ name?: string | symbol; options?: object }>, options?: { global?: boolean }): DynamicModule;
  /** Resolves once nothing is pending, running or waiting for a retry. */
  drain(): Promise<void>;
  advance(ms: number): Promise<void>;
  addEntry(pattern: string, fields: Record<string, string>): string | Promise<string>;
  entries(pattern: string): BedEntry[] | Promise<BedEntry[]>;
  deadLetters(pattern: string): BedDeadLetter[] | Promise<BedDeadLetter[]>;
  pending(pattern: string, group: string): number | Promise<number>;
  calls(pattern: string): number;
  emitted(pattern?: string): EmittedRecord[];
  close(): Promise<void>;
}
