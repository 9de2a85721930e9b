import type { Type } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import type { RedisStreamsServerSettings } from '@nestream/transport';

/** A client of either transport: Nest's ClientProxy plus emitMany. */
export type SharedClient = ClientProxy & { emitMany(pattern: string, events: unknown[]): Promise<string[]> };

/**
 * What a shared conformance case runs against: the Redis transport on a real redis-server, or the test kit's
 * in-memory bed. A case is written once against this and registered for both (see cases.ts).
 */
export interface TransportUnderTest {
  readonly name: 'redis' | 'bed';
  /** Starts a microservice with these controllers (closed after the test). */
  start(controllers: Type<unknown>[], options: RedisStreamsServerSettings): Promise<void>;
  client(): SharedClient;
  /** XADD of exactly these fields to a pattern's stream (a foreign producer). */
  addEntry(pattern: string, fields: Record<string, string>): Promise<string>;
  /**
   * Lets `ms` pass. The bed moves its virtual clock (a handler timeout fires); on Redis real time passes anyway
   * while `until()` waits, so it returns at once.
   */
  passTime(ms: number): Promise<void>;
  /** The transport's time, ms: the bed's virtual clock, or the wall clock on Redis. */
  now(): number;
  /** Resolves once `done()` holds: the bed drains first (no real time), Redis is polled. Fails if it never does. */
  until(done: () => boolean | Promise<boolean>, what: string): Promise<void>;
  /** Dead-letter entries of a pattern's stream, as field maps (`dlq.*` and the original fields). */
  deadLetters(pattern: string): Promise<Array<Record<string, string>>>;
  pending(pattern: string, group: string): Promise<number>;
}
