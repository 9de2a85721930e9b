import { Command, type Cluster, type Pipeline, type Redis } from 'ioredis';
import { DurabilityError } from '../errors/durability.error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import type { DurabilityOptions } from '../options/durability.js';
import { commandError } from '../redis/command-errors.js';
import { slotOf, type RedisClient } from '../redis/redis-client.js';

/** A command of a durable write: its name and arguments (an XADD, or an EVAL of the xadd-many script). */
export type WriteCommand = [name: string, args: Array<string | number>];

/** One durable write: its commands, run in order on one node, and who waits for their replies. */
interface Write {
  what: string;
  stream: string;
  commands: WriteCommand[];
  resolve(replies: unknown[]): void;
  reject(err: unknown): void;
  /** writeTimeoutMs after run(): its commands must have been answered by then, its WAIT timeoutMs later. */
  deadline: number;
  /** Times it was sent again after a cluster node refused all of it (MOVED, ASK, ...). */
  redirects: number;
}

/**
 * The durable writes bound for one connection: at most one pipeline of them in flight, the next ones queued.
 * `asking`: after an ASK, to this node's connection, each command after ASKING.
 */
interface Lane {
  queued: Write[];
  sending: boolean;
  asking?: Redis;
}

/** As ioredis's own `maxRedirections` default. */
const MAX_REDIRECTIONS = 16;
/** Before trying again after TRYAGAIN or CLUSTERDOWN (a failover), or an ASK to a node not known yet: ioredis's retry delays. */
const REDIRECT_DELAY_MS = 100;
/** Cluster refusals that mean the command did not run, so sending it again cannot add the entry twice. */
const NOT_RUN = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;
/** ioredis refuses a cluster pipeline whose keys span nodes (the slot map changed since the lane was chosen). */
const SPANS_NODES = /^All keys in the pipeline/;

/**
 * The writes of a client with the `durability` option: each is followed by `WAIT replicas timeoutMs` and
 * resolves only when WAIT counts enough replicas; otherwise it rejects with DurabilityError (the entry is on
 * the master all the same).
 *
 * WAIT confirms every write its connection made before it, so it must run on the connection, and the node, of
 * the write, after it. Writes and WAIT go out as one explicit pipeline:
 * - one Redis: a pipeline is written to the one connection in order;
 * - Redis Cluster: ioredis (5.9, `built/Pipeline.js` exec()) computes one slot for a whole pipeline from its
 *   keyed commands and fails it if they span nodes; `built/cluster/index.js` sendCommand() then sends every
 *   command of it to the node of that slot (`node.redis`, set by the first one), keyless WAIT included. An
 *   auto-pipelined or separate WAIT would not do: ioredis routes a keyless command by its first argument
 *   (auto-pipelining) or to a random node. So a cluster has a lane per node (ioredis's own grouping of slots,
 *   `Cluster.slots[slot]`, as its auto-pipelining keys them).
 *   ioredis redirects a cluster pipeline only when all its errors are alike and every command that answered
 *   is read-only (fillResult()), which WAIT is not (@ioredis/commands): a write a node refused with MOVED,
 *   ASK, TRYAGAIN or CLUSTERDOWN did not run, and is sent again here: after ASK with ASKING to the node it
 *   names, otherwise once the slot map is refreshed.
 *
 * Coalesced: the durable writes of one event-loop turn share one pipeline and one WAIT per connection. One
 * pipeline and one WAIT per write measured 6-13x slower at 1,000 concurrent writes (bench/RESULTS.md).
 * One pipeline in flight per connection: Redis runs nothing else of a connection while WAIT blocks it, so
 * writes sent behind a WAIT would wait there (up to timeoutMs each with a replica down, one WAIT after the
 * other, until their own command timeouts fired); they wait here instead and go out together when it returns.
 * A write settles within writeTimeoutMs + timeoutMs: one not sent within writeTimeoutMs is not sent at all.
 */
export class DurableWrites {
  /** By connection: '' on one Redis; on a cluster the node's slot group, or `ASK host:port`. */
  private readonly lanes = new Map<string, Lane>();
  private readonly cluster?: Cluster;

  constructor(
    private readonly redis: RedisClient,
    private readonly durability: DurabilityOptions,
    private readonly writeTimeoutMs: number,
  ) {
    if ((redis as { isCluster?: boolean }).isCluster === true) this.cluster = redis as Cluster;
  }

  /**
   * Runs the commands (writes to `stream`) and then WAIT; resolves with the commands' replies once WAIT
   * counted `durability.replicas` replicas. A refused command rejects with its error (as a plain write would);
   * a WAIT short of replicas, or failing, with DurabilityError. `what` names the call in errors.
   */
  run(what: string, stream: string, commands: WriteCommand[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.queue({ what, stream, commands, resolve, reject, redirects: 0, deadline: Date.now() + this.writeTimeoutMs });
    });
  }

  private queue(write: Write, asking?: { node: Redis; address: string }): void {
    const key = asking ? `ASK ${asking.address}` : this.laneOf(write.stream);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { queued: [], sending: false, asking: asking?.node };
      this.lanes.set(key, lane);
    }
    lane.queued.push(write);
    // The first write of a turn: the rest of the turn's writes join it before it goes out.
    if (lane.queued.length === 1 && !lane.sending) setImmediate(() => this.send(key, lane));
  }

  private laneOf(stream: string): string {
    if (!this.cluster) return '';
    const slot = slotOf(stream);
    return this.cluster.slots[slot]?.join(',') ?? `slot ${slot}`;
  }

  /** Sends the lane's queued writes and one WAIT; when that settles, whatever queued meanwhile. */
  private send(key: string, lane: Lane): void {
    const now = Date.now();
    const writes: Write[] = [];
    for (const write of lane.queued) {
      if (write.deadline > now) writes.push(write);
      else this.neverSent(write);
    }
    lane.queued = [];
    if (writes.length === 0) {
      this.lanes.delete(key);
      return;
    }
    lane.sending = true;
    void this.pipeline(lane, writes, now)
      .then(
        results => this.settle(lane, writes, results),
        (err: Error) => {
          for (const write of writes) if (!(SPANS_NODES.test(err?.message) && this.redirect(write, err))) write.reject(err);
        },
      )
      // A write settles once (a promise): this reaches only writes a bug would leave waiting, and frees the lane.
      .catch(err => writes.forEach(write => write.reject(err)))
      .finally(() => {
        lane.sending = false;
        if (lane.queued.length > 0) this.send(key, lane);
        else this.lanes.delete(key);
      });
  }

  /** The writes' commands, then WAIT, as one pipeline on the lane's connection; resolves with every reply. */
  private async pipeline(lane: Lane, writes: Write[], now: number): Promise<Array<[Error | null, unknown]>> {
    const pipeline = (lane.asking ?? this.redis).pipeline() as unknown as Pipeline;
    let earliest = Infinity;
    for (const write of writes) {
      earliest = Math.min(earliest, write.deadline);
      for (const [name, args] of write.commands) {
        // ASK: the node takes a command for a slot it is importing only right after ASKING.
        if (lane.asking) pipeline.sendCommand(new Command('asking', [], { replyEncoding: 'utf8' }));
        // Its own timer (ioredis's commandTimeout applies only to a command without one): answered within
        // writeTimeoutMs of run(), the time it waited here included.
        const command = new Command(name, args, { replyEncoding: 'utf8' });
        command.setTimeout(write.deadline - now);
        pipeline.sendCommand(command);
      }
    }
    const { replicas, timeoutMs } = this.durability;
    const wait = new Command('wait', [replicas, timeoutMs]);
    wait.setTimeout(earliest - now + timeoutMs);
    pipeline.sendCommand(wait);
    return ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
  }

  private settle(lane: Lane, writes: Write[], results: Array<[Error | null, unknown]>): void {
    const [waitError, confirmed] = results[results.length - 1] ?? [new Error('no reply to WAIT'), 0];
    const step = lane.asking ? 2 : 1; // each command's reply follows its ASKING's
    let at = 0;
    for (const write of writes) {
      const replies = write.commands.map((_, i): [Error | null, unknown] => results[at + i * step + step - 1] ?? [new Error('no reply'), undefined]);
      at += write.commands.length * step;
      const refused = replies.find(([err]) => err)?.[0];
      if (refused) {
        if (!replies.every(([err]) => err && NOT_RUN.test(err.message)) || !this.redirect(write, refused)) write.reject(refused);
        continue;
      }
      const values = replies.map(([, value]) => value);
      const { replicas, timeoutMs } = this.durability;
      if (waitError) write.reject(new DurabilityError(write.what, write.stream, idsOf(values), replicas, 0, timeoutMs, commandError(waitError, 'WAIT', '')));
      else if ((confirmed as number) < replicas) write.reject(new DurabilityError(write.what, write.stream, idsOf(values), replicas, confirmed as number, timeoutMs));
      else write.resolve(values);
    }
  }

  /** Rejects a write still queued at its deadline (the WAIT before it took that long): it was never sent. */
  private neverSent(write: Write): void {
    write.reject(
      new RedisUnavailableError(
        `${write.what} failed: not sent within ${this.writeTimeoutMs} ms (option writeTimeoutMs): the durable writes before it were ` +
          'still waiting for their replicas (option durability); nothing was written',
      ),
    );
  }

  /**
   * Sends a write a cluster node refused (it did not run) again: after ASK to the node it names, with ASKING
   * (as ioredis does for a single command), so writes go on while a slot migrates; otherwise once the slot map
   * is refreshed. False when that is not allowed (not a cluster, too many redirections, past its deadline).
   */
  private redirect(write: Write, refused: Error): boolean {
    const cluster = this.cluster;
    if (!cluster || ++write.redirects > MAX_REDIRECTIONS || Date.now() >= write.deadline) return false;
    const [kind, , address] = refused.message.split(' ');
    // ioredis names its node connections host:port (Cluster.refreshSlotsCache()), as ASK names the node.
    const node = kind === 'ASK' ? cluster.nodes('master').find(n => `${n.options.host}:${n.options.port}` === address) : undefined;
    if (node) this.queue(write, { node, address });
    else cluster.refreshSlotsCache(() => setTimeout(() => this.queue(write), kind === 'MOVED' ? 0 : REDIRECT_DELAY_MS));
    return true;
  }
}

/** The entry ids among a write's replies (an XADD's id, an xadd-many chunk's ids). */
function idsOf(values: unknown[]): string[] {
  return values.flat().map(String);
}
