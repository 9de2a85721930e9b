import { Command, type Cluster, type Pipeline, type Redis } from 'ioredis';
import { DurabilityError } from '../errors/durability.error.js';
import type { DurabilityOptions } from '../options/durability.js';
import { commandError } from '../redis/command-errors.js';

/** A command of a durable write: its name and arguments (an XADD, or an EVAL of the xadd-many script). */
export type WriteCommand = [name: string, args: Array<string | number>];

/** One durable write: its commands, run in order on one node, and who waits for their replies. */
interface Write {
  what: string;
  stream: string;
  commands: WriteCommand[];
  resolve(replies: unknown[]): void;
  reject(err: unknown): void;
  /** Times it was sent again after a cluster node refused all of it (MOVED, ASK, ...). */
  redirects: number;
  /** Past this (writeTimeoutMs after the first try), a refusal is final. */
  deadline: number;
}

/** Writes sent together, with one WAIT at the end; `asking`: to this node, each command after ASKING. */
interface Batch {
  asking?: Redis;
  writes: Write[];
}

/** As ioredis's own `maxRedirections` default. */
const MAX_REDIRECTIONS = 16;
/** Before trying again after TRYAGAIN or CLUSTERDOWN (a slot migrating, a failover), or an ASK to a node not known yet: ioredis's retry delays. */
const REDIRECT_DELAY_MS = 100;
/** Cluster refusals that mean the command did not run, so sending it again cannot add the entry twice. */
const NOT_RUN = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;

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
 *   (auto-pipelining) or to a random node. So batches are per stream on a cluster (its nodes differ).
 *   ioredis redirects a cluster pipeline only when all its errors are alike and every command that answered
 *   is read-only (fillResult()), which WAIT is not (@ioredis/commands): a write a node refused with MOVED,
 *   ASK, TRYAGAIN or CLUSTERDOWN did not run, and is sent again here: after ASK with ASKING to the node it
 *   names, otherwise once the slot map is refreshed.
 * Coalesced: the durable writes of one event-loop turn share one pipeline and one WAIT, on one Redis, or per
 * stream on a cluster. One pipeline and one WAIT per write measured 7-9x slower at 1,000 concurrent emits
 * (bench/RESULTS.md); shared, durable emits cost about what plain auto-pipelined ones do.
 */
export class DurableWrites {
  /** Writes of this turn, by pipeline: '' on one Redis; on a cluster the stream, or the node an ASK named and the stream. */
  private batches = new Map<string, Batch>();
  private readonly cluster: boolean;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly durability: DurabilityOptions,
    private readonly writeTimeoutMs: number,
  ) {
    this.cluster = (redis as { isCluster?: boolean }).isCluster === true;
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

  /** Adds the write to this turn's pipeline for its stream, or for the node an ASK named (`asking`). */
  private queue(write: Write, asking?: { node: Redis; address: string }): void {
    if (this.batches.size === 0) setImmediate(() => this.flush());
    const key = asking ? `${asking.address} ${write.stream}` : this.cluster ? write.stream : '';
    const batch = this.batches.get(key);
    if (batch) batch.writes.push(write);
    else this.batches.set(key, { asking: asking?.node, writes: [write] });
  }

  private flush(): void {
    const batches = this.batches;
    this.batches = new Map();
    for (const batch of batches.values()) this.send(batch);
  }

  private send(batch: Batch): void {
    const pipeline = (batch.asking ?? this.redis).pipeline() as unknown as Pipeline & { call(name: string, ...args: Array<string | number>): unknown };
    for (const write of batch.writes) {
      for (const [name, args] of write.commands) {
        // ASK: the node takes a command for a slot it is importing only right after ASKING.
        if (batch.asking) pipeline.call('asking');
        pipeline.call(name, ...args);
      }
    }
    const { replicas, timeoutMs } = this.durability;
    const wait = new Command('wait', [replicas, timeoutMs]);
    // Set before ioredis's commandTimeout (writeTimeoutMs), which applies only to a command without a timer
    // yet and would end a WAIT longer than writeTimeoutMs early. The pipeline settles within this.
    wait.setTimeout(this.writeTimeoutMs + timeoutMs);
    pipeline.sendCommand(wait);
    pipeline.exec().then(
      results => this.settle(batch, results ?? []),
      err => batch.writes.forEach(write => write.reject(err)),
    );
  }

  private settle(batch: Batch, results: Array<[Error | null, unknown]>): void {
    const [waitError, confirmed] = results[results.length - 1] ?? [new Error('no reply to WAIT'), 0];
    const step = batch.asking ? 2 : 1; // each command's reply follows its ASKING's
    let at = 0;
    for (const write of batch.writes) {
      const replies = write.commands.map((_, i) => results[at + i * step + step - 1]);
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

  /**
   * Sends a write a cluster node refused (it did not run) again: after ASK to the node it names, with ASKING
   * (as ioredis does for a single command), so writes go on while a slot migrates; otherwise once the slot map
   * is refreshed. False when that is not allowed (not a cluster, too many redirections, past writeTimeoutMs).
   */
  private redirect(write: Write, refused: Error): boolean {
    if (!this.cluster || ++write.redirects > MAX_REDIRECTIONS || Date.now() > write.deadline) return false;
    const cluster = this.redis as Cluster;
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
