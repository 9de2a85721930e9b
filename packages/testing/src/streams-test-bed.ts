import { StreamKeys } from '@nestream/transport/internal';
import { MemoryBroker } from './memory-broker.js';
import { MemoryStreamsClient, type MemoryStreamsClientOptions } from './memory-streams.client.js';
import type { BedDeadLetter, BedEntry, EmittedRecord, TestBed } from './test-bed.js';
import { MemoryStreamsServer, type MemoryStreamsServerOptions } from './memory-streams.server.js';
import { bedDeadLetter, bedEntry, deadLetterKeyOf } from './bed-records.js';
import { VirtualClock } from './virtual-clock.js';
import { RedisTestBed, type RedisTestBedOptions } from './redis-test-bed.js';
import { StreamsTestBedClientsModule, type TestBedClientRegistration } from './test-bed-clients.module.js';
import type { DynamicModule } from '@nestjs/common';

export interface StreamsTestBedOptions {
  /** The keyPrefix servers and clients of this bed use unless given one. @default '' */
  keyPrefix?: string;
  /** Where the virtual clock starts (ms since the epoch). @default Date.now() at creation */
  startTime?: number;
}

// A drain that keeps finding work after this many clock steps is a loop (a handler that emits forever).
const MAX_DRAIN_STEPS = 100_000;
// advance(): microtask turns without any change before a step counts as finished.
const QUIET_TURNS = 50;

/**
 * An in-memory broker with the transport's semantics, for tests without Redis: `server()` for the
 * microservice, `client()` for producers, a virtual clock (`drain()`, `advance()`), and what Redis would hold
 * (`entries()`, `pending()`, `deadLetters()`), plus handler call counts.
 */
export class StreamsTestBed implements TestBed {
  private readonly broker: MemoryBroker;
  private readonly keys: StreamKeys;
  private readonly servers: MemoryStreamsServer[] = [];
  private readonly clients: MemoryStreamsClient[] = [];

  /** The same API over a real Redis: see RedisTestBed. */
  static redis(options: RedisTestBedOptions): RedisTestBed {
    return new RedisTestBed(options);
  }

  constructor(private readonly bedOptions: StreamsTestBedOptions = {}) {
    this.broker = new MemoryBroker(new VirtualClock(bedOptions.startTime));
    this.keys = new StreamKeys(bedOptions.keyPrefix ?? '');
  }

  /** A strategy for `NestFactory.createMicroservice(M, { strategy })` / `app.connectMicroservice({ strategy })`. */
  server(options: MemoryStreamsServerOptions): MemoryStreamsServer {
    const server = new MemoryStreamsServer(this.broker, withPrefix(options, this.bedOptions.keyPrefix));
    this.servers.push(server);
    return server;
  }

  /** A `ClientProxy` writing to this bed. */
  client(options: MemoryStreamsClientOptions = {}): MemoryStreamsClient {
    const client = new MemoryStreamsClient(this.broker, withPrefix(options, this.bedOptions.keyPrefix));
    this.clients.push(client);
    return client;
  }

  /**
   * `ClientsModule.register()` for a test: each registration's token gets a client of this bed
   * (`imports: [bed.clientsModule([{ name: 'EVENTS' }])]` in `Test.createTestingModule`).
   */
  clientsModule(registrations: TestBedClientRegistration[] = [{}], options: { global?: boolean } = {}): DynamicModule {
    return StreamsTestBedClientsModule.of(registrations, o => this.client(o), options.global ?? false);
  }

  /** The bed's time (ms since the epoch): starts at the wall-clock time, moves with drain() and advance(). */
  now(): number {
    return this.broker.clock.now();
  }

  /**
   * Resolves once nothing is running, waiting for a slot or waiting for a retry: handlers in flight are awaited
   * (they may do real I/O), then the clock jumps to the next timer (a retry's backoff, a request's timeout),
   * and so on. A handler that never settles keeps it waiting: for handlerTimeoutMs, use advance().
   */
  async drain(): Promise<void> {
    for (let step = 0; step < MAX_DRAIN_STEPS; step++) {
      await this.settle();
      const next = this.broker.clock.nextDueAt();
      if (next === undefined) return;
      this.broker.clock.runUntil(next);
    }
    throw new Error(`drain(): still busy after ${MAX_DRAIN_STEPS} steps of the clock (a handler that keeps emitting?)`);
  }

  /**
   * Moves the clock `ms` forward, running each timer at its time (retries, request and handler timeouts) and
   * letting what it starts run as far as it goes without real I/O; handlers still in flight are not awaited.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance(ms): ms must be >= 0, got ${ms}`);
    const target = this.broker.clock.now() + ms;
    await this.quiet();
    for (;;) {
      const next = this.broker.clock.nextDueAt();
      if (next === undefined || next > target) break;
      this.broker.clock.runUntil(next);
      await this.quiet();
    }
    this.broker.clock.runUntil(target);
    await this.quiet();
  }

  /**
   * Adds an entry with exactly these fields to a pattern's stream, as `XADD <stream> * field value ...` from
   * another tool would: for undecodable entries (`{ data: 'not json' }`) and foreign producers. Returns its id.
   */
  addEntry(pattern: string, fields: Record<string, string>): string {
    return this.broker.xadd(this.keys.stream(pattern), Object.entries(fields).flat());
  }

  /** The entries of a pattern's stream (of each of its partitions, partition by partition), decoded. */
  entries(pattern: string): BedEntry[] {
    return this.streamsOf(pattern).flatMap(stream => this.broker.entries(stream).map(e => bedEntry(stream, e.id, e.fields)));
  }

  /**
   * The dead letters of a pattern (of each of its partitions), oldest first, from the dead-letter stream its
   * server's `deadLetter.key` names (`<stream>:dlq` by default).
   */
  deadLetters(pattern: string): BedDeadLetter[] {
    return this.streamsOf(pattern).flatMap(stream => this.broker.entries(deadLetterKeyOf(this.servers, stream)).map(e => bedDeadLetter(e.fields)));
  }

  /** Entries of a pattern delivered to `group` and not acked yet (waiting for a retry included). */
  pending(pattern: string, group: string): number {
    return this.streamsOf(pattern).reduce((n, s) => n + (this.broker.streams.get(s)?.groups.get(group)?.pending.size ?? 0), 0);
  }

  /** Handler calls for a pattern, over every server of the bed (each delivery of each entry counts). */
  calls(pattern: string): number {
    return this.servers.reduce((n, s) => n + (s.calls.get(pattern) ?? 0), 0);
  }

  /** What the bed's clients wrote to a pattern (every pattern without one). */
  emitted(pattern?: string): EmittedRecord[] {
    return this.clients.flatMap(c => c.emittedTo(pattern));
  }

  /** Closes every server and client of the bed. */
  async close(): Promise<void> {
    await Promise.all([...this.servers.map(s => s.close()), ...this.clients.map(c => c.close())]);
  }

  /** The streams of a pattern: its own, then its partitions if a server recorded a count. */
  private streamsOf(pattern: string): string[] {
    const count = this.broker.partitionCounts.get(this.keys.partitionCount(pattern));
    const own = this.keys.stream(pattern);
    return count === undefined ? [own] : [own, ...this.keys.partitions(pattern, count)];
  }

  /** Awaits the attempts in flight until none are left. */
  private async settle(): Promise<void> {
    for (;;) {
      await turns(QUIET_TURNS);
      const running = [...this.broker.consumers].flatMap(c => c.inFlight());
      if (running.length === 0) return;
      // Attempts waiting for their rate limit's turn wait on the virtual clock: drain() moves it for them.
      if (this.broker.rateLimitWaits > 0) return;
      await Promise.allSettled(running);
    }
  }

  /** Microtask turns until the broker has seen no change for QUIET_TURNS turns. */
  private async quiet(): Promise<void> {
    let seen = -1;
    while (seen !== this.broker.activity) {
      seen = this.broker.activity;
      await turns(QUIET_TURNS);
    }
  }
}

/** Yields `n` microtask turns: no timers, so fake timers neither drive nor block it. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

function withPrefix<T extends object>(options: T, keyPrefix: string | undefined): T {
  if (keyPrefix === undefined || options === null || typeof options !== 'object' || 'keyPrefix' in options) return options;
  return { ...options, keyPrefix };
}
