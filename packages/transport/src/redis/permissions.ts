import type { RedisClient } from './redis-client.js';
import { PermissionError, type MissingPermission } from '../errors/permission.error.js';
import { deadLetterKeyOf } from '../options/dead-letter.js';
import type { ResolvedServerOptions } from '../options/server.js';
import { deniedCommand, isPermissionDenied } from './command-errors.js';
import { StreamKeys } from '../keys.js';

/**
 * Checks, before anything runs, that the Redis user may send every command the transport will send, to the
 * keys it will send them to; a PermissionError names each missing command and key.
 *
 * Without side effects, and without the `acl` permission ACL DRYRUN would need: Redis checks a command's ACL
 * before running it, so each probe is a real command built to fail right after that check (an invalid
 * stream id, `0-0` for XADD, a non-number for EXPIRE, an unknown script sha, a script that does not compile)
 * or to change nothing (XPENDING, XLEN, XINFO, an empty MULTI/EXEC). NOPERM means denied; any other answer, error or not, means allowed. Each probe
 * below was checked against redis-server 7.0 (test/security/acl.spec.ts runs them under users lacking each
 * permission in turn). A command the transport starts to send needs its probe here.
 */

/** A command line that passes the ACL check and then fails or does nothing. */
interface Probe {
  /** As PermissionError names it: `XADD`, `XGROUP CREATE`. */
  command: string;
  /** The key the ACL check is about ('' for MULTI/EXEC). */
  key: string;
  args: Array<string | number>;
}

/** Not a stream id: commands that parse ids fail on it after the ACL check. */
const BAD_ID = 'nestream-permission-probe';
/** A sha no script has: EVALSHA answers NOSCRIPT after the ACL check. */
const NO_SCRIPT = '0'.repeat(40);
/** A script that does not compile: EVAL fails after the ACL check, and Redis caches nothing. */
const BAD_SCRIPT = 'nestream permission probe (';
/** The consumer name the probes use where a command needs one (never created: every probe fails first). */
const PROBE_CONSUMER = 'nestream-permission-probe';

export interface ConsumerPermissionScope {
  /** The streams the server reads. */
  streams: string[];
  group: string;
  consumer: string;
  /** The dead-letter stream of each stream ([] with `deadLetter: false`). */
  deadLetterKeys: string[];
  /** The failed-attempt record of each stream (`<stream>:failures`: HINCRBY, PEXPIRE, HMGET, HDEL). */
  failureKeys: string[];
  /** `<keyPrefix>nestream:replies:` when the server answers requests (@MessagePattern handlers), else undefined. */
  replyPrefix?: string;
  /** `consumerCleanup` is on: XINFO CONSUMERS and the clean-up script (XPENDING, XGROUP DELCONSUMER). */
  consumerCleanup?: boolean;
  /** The groups start at `$`: XLEN tells how many entries a new group skips. */
  startsAtEnd?: boolean;
  /** `boundedReads` is on: new entries are read by a script (EVALSHA, EVAL on each stream). */
  boundedReads?: boolean;
  /** Partitioned patterns (`{ partitions }`): what the server needs besides their partition streams. */
  partitions?: PartitionPermissionScope;
  /** The streams with a `retention`: the trim script (EVALSHA, EVAL) runs XINFO GROUPS, XTRIM, XLEN, EXISTS and TIME. */
  retentionStreams?: string[];
  /** The rate-limit keys of rate-limited handlers: the take script (EVALSHA, EVAL) runs GET, SET and TIME. */
  rateLimitKeys?: string[];
}

export interface PartitionPermissionScope {
  /** Each partitioned pattern's count key (GET, SET: recorded at listen()) and its own stream (XLEN: entries there are not read). */
  counted: Array<{ countKey: string; stream: string }>;
  /** Lease keys of the ordered partitions (a script takes one with SET NX PX; scripts renew and give it up: GET, PEXPIRE). */
  leaseKeys: string[];
  /** The leases' generation counters (the take script counts one up: INCRBY; the renewal reads it: GET). */
  generationKeys: string[];
  /** Membership sets of the ordered partitioned patterns (a script beats the heartbeat: TIME, ZADD, ZREMRANGEBYSCORE, ZCARD; ZREM on close()). */
  memberKeys: string[];
}

/** The scope of a RedisStreamsServer with these options and handlers. */
export function consumerPermissionScope(
  options: ResolvedServerOptions,
  streams: string[],
  answersRequests: boolean,
  partitions?: PartitionPermissionScope,
  retentionStreams: string[] = [],
  rateLimitKeys: string[] = [],
): ConsumerPermissionScope {
  return {
    streams,
    group: options.group,
    consumer: options.consumer,
    // Every stream has one or none does (`deadLetter: false`): key i is stream i's.
    deadLetterKeys: streams.flatMap(stream => deadLetterKeyOf(options.deadLetter, stream) ?? []),
    failureKeys: streams.map(stream => StreamKeys.failures(stream)),
    replyPrefix: answersRequests ? options.decodeLimits.replyPrefix : undefined,
    consumerCleanup: options.consumerCleanup !== false,
    startsAtEnd: options.startId === '$',
    boundedReads: options.boundedReads,
    partitions,
    retentionStreams,
    rateLimitKeys,
  };
}

/**
 * What a consumer needs: on each stream XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, XPENDING, XGROUP CREATE, XRANGE
 * (and XLEN when groups start at `$`); XADD on each dead-letter stream, and EVALSHA and EVAL on each stream
 * together with its dead-letter stream (a dead-letter move is a script naming both); XADD and EXPIRE on the
 * reply namespace, MULTI and EXEC (a reply write is a transaction) when it answers requests; with
 * consumerCleanup, XINFO CONSUMERS and XGROUP DELCONSUMER (and the script commands) on each stream; with
 * boundedReads, the script commands on each stream; with partitioned patterns, what partitionProbes() lists.
 * Throws PermissionError.
 */
export async function checkConsumerPermissions(redis: RedisClient, scope: ConsumerPermissionScope): Promise<void> {
  const { group } = scope;
  const probes: Probe[] = [];
  for (const stream of scope.streams) {
    const on = (command: string, ...args: Array<string | number>) => probes.push({ command, key: stream, args });
    on('XREADGROUP', 'XREADGROUP', 'GROUP', group, PROBE_CONSUMER, 'COUNT', 1, 'STREAMS', stream, BAD_ID);
    on('XACK', 'XACK', stream, group, BAD_ID);
    on('XCLAIM', 'XCLAIM', stream, group, PROBE_CONSUMER, 0, BAD_ID);
    on('XAUTOCLAIM', 'XAUTOCLAIM', stream, group, PROBE_CONSUMER, 0, BAD_ID);
    on('XPENDING', 'XPENDING', stream, group);
    on('XGROUP CREATE', 'XGROUP', 'CREATE', stream, group, BAD_ID, 'MKSTREAM');
    on('XRANGE', 'XRANGE', stream, BAD_ID, BAD_ID);
    if (scope.startsAtEnd) on('XLEN', 'XLEN', stream);
    if (scope.consumerCleanup) {
      on('XINFO CONSUMERS', 'XINFO', 'CONSUMERS', stream, group);
      on('XGROUP DELCONSUMER', 'XGROUP', 'DELCONSUMER', stream, group, PROBE_CONSUMER);
    }
    if (scope.consumerCleanup || scope.boundedReads || scope.deadLetterKeys.length > 0) {
      on('EVALSHA', 'EVALSHA', NO_SCRIPT, 1, stream);
      on('EVAL', 'EVAL', BAD_SCRIPT, 1, stream);
    }
  }
  scope.deadLetterKeys.forEach((key, i) => {
    probes.push(xaddProbe(key));
    // The dead-letter script names both keys: one ACL selector must allow it on both.
    const stream = scope.streams[i];
    probes.push({ command: 'EVALSHA', key, args: ['EVALSHA', NO_SCRIPT, 2, stream, key] });
    probes.push({ command: 'EVAL', key, args: ['EVAL', BAD_SCRIPT, 2, stream, key] });
  });
  for (const key of scope.failureKeys) {
    // Not numbers: HINCRBY and PEXPIRE fail after the ACL check; HMGET reads; HDEL of a field nobody writes changes nothing.
    probes.push(
      { command: 'HINCRBY', key, args: ['HINCRBY', key, BAD_ID, BAD_ID] },
      { command: 'PEXPIRE', key, args: ['PEXPIRE', key, BAD_ID] },
      { command: 'HMGET', key, args: ['HMGET', key, BAD_ID] },
      { command: 'HDEL', key, args: ['HDEL', key, BAD_ID] },
    );
  }
  if (scope.replyPrefix !== undefined) {
    const key = scope.replyPrefix + BAD_ID;
    probes.push(xaddProbe(key), { command: 'EXPIRE', key, args: ['EXPIRE', key, 'not-a-number'] });
  }
  if (scope.partitions) probes.push(...partitionProbes(scope.partitions));
  for (const stream of scope.retentionStreams ?? []) probes.push(...retentionProbes(stream));
  for (const key of scope.rateLimitKeys ?? []) probes.push(...rateLimitProbes(key));
  const missing = await run(redis, probes);
  if (scope.streams.length > 0 && scope.replyPrefix !== undefined) missing.push(...(await transactionMissing(redis)));
  if (missing.length > 0) throw new PermissionError(missing);
}

export interface ProducerPermissionScope {
  /** The streams the client writes (`client.streamOf(pattern)`, or a partitioned pattern's partitions). */
  streams: string[];
  /** The count keys of the patterns written (GET: a pattern's partition count is read on its first emit). */
  partitionCountKeys?: string[];
  /** Events are also written with `emitMany()` (a script: EVALSHA, EVAL). @default false */
  emitMany?: boolean;
  /** The client's reply stream, when it sends requests: XREAD and XTRIM on it. */
  replyStream?: string;
  /** Writes are confirmed by WAIT (the client's `durability` option). @default false */
  durability?: boolean;
  /**
   * Emits carry idempotency keys: per stream, a record key of the kind they write (`{stream}:idem:<key>`): the
   * script (EVALSHA, EVAL) names the stream with it, and runs GET and SET on it.
   */
  idempotencyRecords?: Array<{ stream: string; record: string }>;
}

/**
 * What a producer needs: XADD on each stream (EVALSHA and EVAL too with emitMany), GET on the patterns'
 * partition count keys, WAIT with durability, for request-reply XREAD and XTRIM on its reply stream, and with
 * idempotency keys the script commands on each stream with its key records, GET and SET on those.
 * Throws PermissionError.
 */
export async function checkProducerPermissions(redis: RedisClient, scope: ProducerPermissionScope): Promise<void> {
  const probes: Probe[] = [];
  for (const stream of scope.streams) {
    probes.push(xaddProbe(stream));
    if (scope.emitMany) {
      probes.push({ command: 'EVALSHA', key: stream, args: ['EVALSHA', NO_SCRIPT, 1, stream] });
      probes.push({ command: 'EVAL', key: stream, args: ['EVAL', BAD_SCRIPT, 1, stream] });
    }
  }
  for (const key of scope.partitionCountKeys ?? []) probes.push({ command: 'GET', key, args: ['GET', key] });
  for (const { stream, record } of scope.idempotencyRecords ?? []) {
    probes.push({ command: 'EVALSHA', key: record, args: ['EVALSHA', NO_SCRIPT, 2, stream, record] });
    probes.push({ command: 'EVAL', key: record, args: ['EVAL', BAD_SCRIPT, 2, stream, record] });
    probes.push({ command: 'GET', key: record, args: ['GET', record] });
    probes.push({ command: 'SET', key: record, args: ['SET', record, BAD_ID, 'PX', 'not-a-number'] });
  }
  // Not a number of replicas: WAIT fails after the ACL check, without waiting.
  if (scope.durability) probes.push({ command: 'WAIT', key: '', args: ['WAIT', BAD_ID, 1] });
  const reply = scope.replyStream;
  if (reply !== undefined) {
    probes.push({ command: 'XREAD', key: reply, args: ['XREAD', 'COUNT', 1, 'STREAMS', reply, BAD_ID] });
    probes.push({ command: 'XTRIM', key: reply, args: ['XTRIM', reply, 'MINID', BAD_ID] });
  }
  const missing = await run(redis, probes);
  if (missing.length > 0) throw new PermissionError(missing);
}

/**
 * A stream with a retention: the trim script's commands on it (XINFO GROUPS and XLEN and EXISTS only read, XTRIM
 * gets an id that is not one), TIME, and the script commands.
 */
function retentionProbes(stream: string): Probe[] {
  const on = (command: string, ...args: Array<string | number>) => ({ command, key: stream, args: [...command.split(' '), ...args] });
  return [
    on('XINFO GROUPS', stream),
    on('XTRIM', stream, 'MINID', BAD_ID),
    on('XLEN', stream),
    on('EXISTS', stream),
    { command: 'TIME', key: '', args: ['TIME'] },
    { command: 'EVALSHA', key: stream, args: ['EVALSHA', NO_SCRIPT, 1, stream] },
    { command: 'EVAL', key: stream, args: ['EVAL', BAD_SCRIPT, 1, stream] },
  ];
}

/** A rate limit's key: what the take script runs on it (GET, and SET with an expiry that is not a number), TIME, the script commands. */
function rateLimitProbes(key: string): Probe[] {
  return [
    { command: 'GET', key, args: ['GET', key] },
    { command: 'SET', key, args: ['SET', key, BAD_ID, 'PX', 'not-a-number'] },
    { command: 'TIME', key: '', args: ['TIME'] },
    { command: 'EVALSHA', key, args: ['EVALSHA', NO_SCRIPT, 1, key] },
    { command: 'EVAL', key, args: ['EVAL', BAD_SCRIPT, 1, key] },
  ];
}

/**
 * Partitioned patterns: GET and SET on the count keys, XLEN on the patterns' own streams. Ordered ones: on each
 * lease key SET (taking it), GET and PEXPIRE (what the take, renewal and release scripts run) and the script
 * commands; on each lease's generation counter GET and INCRBY, and the script commands naming it with its lease;
 * on each membership set the script commands and what the heartbeat script runs (ZADD, ZREMRANGEBYSCORE, ZCARD,
 * and TIME, which has no key), ZREM (leaving it on close()). GET, XLEN, ZCARD and TIME only read; SET, PEXPIRE,
 * ZADD and ZREMRANGEBYSCORE get an argument that is not a number and fail after the ACL check; ZREM removes a
 * member never added.
 */
function partitionProbes(scope: PartitionPermissionScope): Probe[] {
  const probes: Probe[] = [];
  const on = (key: string, command: string, ...args: Array<string | number>) => probes.push({ command, key, args: [command, key, ...args] });
  const scripts = (key: string) => {
    probes.push({ command: 'EVALSHA', key, args: ['EVALSHA', NO_SCRIPT, 1, key] }, { command: 'EVAL', key, args: ['EVAL', BAD_SCRIPT, 1, key] });
  };
  for (const { countKey, stream } of scope.counted) {
    on(countKey, 'GET');
    on(countKey, 'SET', BAD_ID, 'PX', 'not-a-number');
    on(stream, 'XLEN');
  }
  for (const key of scope.leaseKeys) {
    on(key, 'SET', BAD_ID, 'PX', 'not-a-number');
    on(key, 'GET');
    on(key, 'PEXPIRE', 'not-a-number');
    scripts(key);
  }
  scope.generationKeys.forEach((key, i) => {
    on(key, 'GET');
    on(key, 'INCRBY', 'not-a-number');
    // The take and renewal scripts name the lease and its counter: one ACL selector must allow them on both.
    const lease = scope.leaseKeys[i];
    probes.push({ command: 'EVALSHA', key, args: ['EVALSHA', NO_SCRIPT, 2, lease, key] }, { command: 'EVAL', key, args: ['EVAL', BAD_SCRIPT, 2, lease, key] });
  });
  for (const key of scope.memberKeys) {
    scripts(key);
    on(key, 'ZADD', 'not-a-number', PROBE_CONSUMER);
    on(key, 'ZREMRANGEBYSCORE', 'not-a-number', 'not-a-number');
    on(key, 'ZCARD');
    on(key, 'ZREM', PROBE_CONSUMER);
  }
  if (scope.memberKeys.length > 0) probes.push({ command: 'TIME', key: '', args: ['TIME'] });
  return probes;
}

/** XADD with id 0-0 is refused ("must be greater than 0-0") before the stream is created. */
/**
 * What moving a stream's delayed emits needs (`move-due-3.lua`): the script commands naming the stream with its
 * schedule keys, XADD on the stream, ZRANGEBYSCORE, ZRANGE and ZREM on the schedule, HGET and HDEL on the
 * entries, TIME. Returns what is missing (not thrown: a consumer without them still runs, and says so).
 */
export async function missingSchedulerPermissions(redis: RedisClient, stream: string, schedule: string, entries: string): Promise<MissingPermission[]> {
  const on = (key: string, command: string, ...args: Array<string | number>): Probe => ({ command, key, args: [command, key, ...args] });
  return run(redis, [
    { command: 'EVALSHA', key: schedule, args: ['EVALSHA', NO_SCRIPT, 3, stream, schedule, entries] },
    { command: 'EVAL', key: schedule, args: ['EVAL', BAD_SCRIPT, 3, stream, schedule, entries] },
    xaddProbe(stream),
    on(schedule, 'ZRANGEBYSCORE', 'not-a-number', 'not-a-number'),
    on(schedule, 'ZRANGE', 'not-a-number', 'not-a-number'),
    on(schedule, 'ZREM', PROBE_CONSUMER),
    on(entries, 'HGET', PROBE_CONSUMER),
    on(entries, 'HDEL', PROBE_CONSUMER),
    { command: 'TIME', key: '', args: ['TIME'] },
  ]);
}

function xaddProbe(key: string): Probe {
  return { command: 'XADD', key, args: ['XADD', key, '0-0', 'nestream', 'permission-probe'] };
}

/** Sends the probes together; returns those Redis refused with NOPERM. Connection errors are thrown. */
async function run(redis: RedisClient, probes: Probe[]): Promise<MissingPermission[]> {
  const answers = await Promise.all(
    probes.map(p =>
      redis.call(String(p.args[0]), ...p.args.slice(1)).then(
        () => undefined,
        (err: unknown) => {
          if (isPermissionDenied(err)) return { command: p.command, key: p.key };
          if ((err as { name?: string })?.name === 'ReplyError') return undefined; // allowed: it failed after the ACL check
          throw err;
        },
      ),
    ),
  );
  return answers.filter((a): a is MissingPermission => a !== undefined);
}

/** MULTI and EXEC: an empty transaction, sent as one unit (nothing else can land inside it). */
async function transactionMissing(redis: RedisClient): Promise<MissingPermission[]> {
  try {
    await redis.multi().exec();
    return [];
  } catch (err) {
    const refused = [err, ...((err as { previousErrors?: unknown[] }).previousErrors ?? [])].filter(isPermissionDenied);
    if (refused.length === 0) {
      if ((err as { name?: string })?.name === 'ReplyError') return [];
      throw err;
    }
    return refused.map(e => ({ command: deniedCommand((e as Error).message) ?? 'MULTI', key: '' }));
  }
}
