import { randomBytes } from 'node:crypto';
import type { DynamicModule } from '@nestjs/common';
import {
  InvalidOptionsError,
  type ConnectionOptions,
  type RedisStreamsClientSettings,
  type RedisStreamsServerSettings,
} from '@nestream/transport';
import { createRedis, quitOrDisconnect, StreamKeys, type RedisClient } from '@nestream/transport/internal';
import type { Cluster } from 'ioredis';
import { bedDeadLetter, bedEntry, deadLetterKeyOf } from './bed-records.js';
import { CountingRedisStreamsServer, RecordingRedisStreamsClient } from './recording-redis-streams.js';
import { StreamsTestBedClientsModule, type TestBedClientRegistration } from './test-bed-clients.module.js';
import type { BedDeadLetter, BedEntry, EmittedRecord, TestBed } from './test-bed.js';

export interface RedisTestBedOptions {
  /** The Redis to use (a URL or ioredis options): a throwaway one (startThrowawayRedis()), or a shared one. */
  connection: ConnectionOptions;
  /** The key prefix of everything the bed makes. @default `nestream-test:<random>:` (unique per bed) */
  keyPrefix?: string;
  /** How often drain() looks at the pending lists. @default 10 */
  pollMs?: number;
  /** drain() fails after this long. @default 30000 */
  drainTimeoutMs?: number;
}

/**
 * The test bed over a real Redis: the real RedisStreamsServer and RedisStreamsClient, every key under a prefix of
 * its own (a developer's running service, reading the unprefixed streams, never takes the test's events), drain()
 * from the real pending lists, and close() deleting every key it made. Real time: no virtual clock here.
 */
export class RedisTestBed implements TestBed {
  readonly keyPrefix: string;
  private readonly keys: StreamKeys;
  private readonly redis: RedisClient;
  private readonly servers: CountingRedisStreamsServer[] = [];
  private readonly clients: RecordingRedisStreamsClient[] = [];

  constructor(private readonly options: RedisTestBedOptions) {
    this.keyPrefix = options.keyPrefix ?? `nestream-test:${randomBytes(6).toString('hex')}:`;
    this.keys = new StreamKeys(this.keyPrefix);
    this.redis = createRedis(options.connection, 'admin');
  }

  server(options: RedisStreamsServerSettings & { redeliver?: 'never' | 'always' | 'crash' }): CountingRedisStreamsServer {
    const { redeliver, ...settings } = options;
    if (redeliver !== undefined && redeliver !== 'never') {
      throw new InvalidOptionsError('redeliver', 'the redelivery check runs on the in-memory bed (new StreamsTestBed()) only');
    }
    const server = new CountingRedisStreamsServer({ ...settings, connection: this.options.connection, keyPrefix: this.keyPrefix });
    this.servers.push(server);
    return server;
  }

  client(options: RedisStreamsClientSettings = {}): RecordingRedisStreamsClient {
    const client = new RecordingRedisStreamsClient({ ...options, connection: this.options.connection, keyPrefix: this.keyPrefix });
    this.clients.push(client);
    return client;
  }

  clientsModule(registrations: TestBedClientRegistration[] = [{}], options: { global?: boolean } = {}): DynamicModule {
    return StreamsTestBedClientsModule.of(registrations, o => this.client(o as RedisStreamsClientSettings), options.global ?? false);
  }

  /**
   * Resolves once every group of every stream the bed's servers read has read the whole stream and has nothing
   * pending (retries waiting included): polled from XINFO, in real time.
   */
  async drain(): Promise<void> {
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 30_000);
    for (;;) {
      const busy = await this.busyStreams();
      if (busy.length === 0) return;
      if (Date.now() > deadline) throw new Error(`drain(): still busy after ${this.options.drainTimeoutMs ?? 30_000} ms: ${busy.join(', ')}`);
      await new Promise(r => setTimeout(r, this.options.pollMs ?? 10));
    }
  }

  /** Waits `ms` of real time. */
  async advance(ms: number): Promise<void> {
    await new Promise(r => setTimeout(r, ms));
  }

  async addEntry(pattern: string, fields: Record<string, string>): Promise<string> {
    return (await this.redis.xadd(this.keys.stream(pattern), '*', ...Object.entries(fields).flat())) as string;
  }

  async entries(pattern: string): Promise<BedEntry[]> {
    const out: BedEntry[] = [];
    for (const stream of await this.streamsOf(pattern)) {
      for (const [id, fields] of await this.redis.xrange(stream, '-', '+')) out.push(bedEntry(stream, id, fields));
    }
    return out;
  }

  /** As the in-memory bed's: from the dead-letter stream the server's `deadLetter.key` names. */
  async deadLetters(pattern: string): Promise<BedDeadLetter[]> {
    const out: BedDeadLetter[] = [];
    for (const stream of await this.streamsOf(pattern)) {
      for (const [, fields] of await this.redis.xrange(deadLetterKeyOf(this.servers, stream), '-', '+')) out.push(bedDeadLetter(fields));
    }
    return out;
  }

  async pending(pattern: string, group: string): Promise<number> {
    let n = 0;
    for (const stream of await this.streamsOf(pattern)) {
      const summary = (await this.redis.xpending(stream, group).catch(() => [0])) as [number];
      n += Number(summary[0]);
    }
    return n;
  }

  calls(pattern: string): number {
    return this.servers.reduce((n, s) => n + (s.calls.get(pattern) ?? 0), 0);
  }

  emitted(pattern?: string): EmittedRecord[] {
    return this.clients.flatMap(c => c.emitted).filter(r => pattern === undefined || r.pattern === pattern);
  }

  /** Closes the bed's servers and clients, deletes every key under its prefix, and closes its connection. */
  async close(): Promise<void> {
    await Promise.all([...this.servers.map(s => s.close()), ...this.clients.map(c => c.close())]);
    const nodes = 'nodes' in this.redis ? (this.redis as Cluster).nodes('master') : [this.redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${escapeGlob(this.keyPrefix)}*`, 'COUNT', 500);
        cursor = next;
        // One key per DEL: on a cluster the keys of one SCAN page may live in different slots.
        for (const key of keys) await node.del(key);
      } while (cursor !== '0');
    }
    await quitOrDisconnect(this.redis);
  }

  /** Streams of the servers' groups not done yet: unread entries or pending ones. */
  private async busyStreams(): Promise<string[]> {
    const busy: string[] = [];
    for (const server of this.servers) {
      for (const stream of server.streams) {
        const info = (await this.redis.xinfo('STREAM', stream).catch(() => undefined)) as unknown[] | undefined;
        if (!info) continue;
        const last = String(field(info, 'last-generated-id'));
        const groups = (await this.redis.xinfo('GROUPS', stream)) as unknown[][];
        const group = groups.find(g => field(g, 'name') === server.options.group);
        if (group && (Number(field(group, 'pending')) > 0 || String(field(group, 'last-delivered-id')) !== last)) busy.push(stream);
      }
    }
    return busy;
  }

  /** A pattern's stream, and its partitions if a server recorded a count. */
  private async streamsOf(pattern: string): Promise<string[]> {
    const count = Number(await this.redis.get(this.keys.partitionCount(pattern)));
    return count > 0 ? [this.keys.stream(pattern), ...this.keys.partitions(pattern, count)] : [this.keys.stream(pattern)];
  }
}

/** XINFO replies are flat [name, value, ...] lists. */
function field(reply: unknown[], name: string): unknown {
  for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === name) return reply[i + 1];
  return undefined;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, c => `\\${c}`);
}
