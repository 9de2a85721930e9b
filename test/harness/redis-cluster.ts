import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { closeClients, nodeConnections } from './close-clients.js';
import { distinctFreePorts, killProcess, spawnRedisServer } from './redis-process.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface ClusterNode {
  host: string;
  port: number;
}

export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** @default 1 */
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a node may not answer before it is failed over. @default 1000 */
  nodeTimeoutMs?: number;
}

export interface KillOptions {
  /**
   * Called with the master stopped (SIGSTOP: its sockets open, nothing answered) before the SIGKILL, with its
   * port: commands sent now are in flight when it dies.
   */
  whileFrozen?: (port: number) => Promise<void>;
}

export interface MoveSlotOptions {
  /**
   * Called once the slot's keys are on the target but the slot is still MIGRATING on the source and IMPORTING
   * on the target, before ownership changes: every command on the slot's keys is then answered with ASK.
   */
  whileMigrating?: () => Promise<void>;
}

/** A Redis Cluster started by the tests (redis-server from PATH, free ports, one temp dir). */
export interface TestRedisCluster {
  /** Every node, masters and replicas (as started; a killed node stays listed). */
  readonly nodes: ClusterNode[];
  /** The transport's `connection` option for this cluster. */
  readonly connection: { type: 'cluster'; nodes: ClusterNode[] };
  /** A new ioredis Cluster client (closed by stop()). */
  client(options?: ClusterOptions): Cluster;
  /** A plain connection to one node, for looking at what it holds (closed by stop()). */
  node(port: number): Redis;
  /** The hash slot of a key (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** The port of the master serving the key's slot now, once every live node agrees on it. */
  masterOf(key: string): Promise<number>;
  /** The ports of the masters now, once every live node agrees. */
  masters(): Promise<number[]>;
  /** One key per master, keyed by master port: `make(0)`, `make(1)`, ... until every master has one. */
  keysOnEveryMaster(make: (i: number) => string): Promise<Map<number, string>>;
  /**
   * SIGKILLs the master of the key's slot, waits until its replica is promoted and every surviving node reports
   * `cluster_state:ok` with the slot on the new master; returns the new master's port.
   */
  killMasterOf(key: string, options?: KillOptions): Promise<number>;
  /**
   * Starts a killed node again (same port, same nodes.conf, no data); the cluster makes it a replica of the master
   * that took its slots. Waits until it is in sync (`master_link_status:up`) and every node agrees.
   */
  restartNode(port: number): Promise<void>;
  /** Moves exactly the key's slot, with its keys, to another master (default: the first other one); returns its port. */
  moveSlotOf(key: string, toPort?: number, options?: MoveSlotOptions): Promise<number>;
  /** Kills every node and removes the temp dir. */
  stop(): Promise<void>;
}

interface NodeProcess {
  port: number;
  busPort: number;
  proc?: ChildProcess;
}

/** One live node's view: `cluster_state`, and the owner (master port) of every slot it knows. */
interface NodeView {
  ok: boolean;
  owners: Map<number, number>;
}

export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const { masters: masterCount = 3, replicasPerMaster = 1, nodeTimeoutMs = 1000 } = opts;
  const count = masterCount * (1 + replicasPerMaster);
  const dir = mkdtempSync(join(tmpdir(), 'nestream-cluster-'));
  const ports = await distinctFreePorts(2 * count);
  const processes: NodeProcess[] = Array.from({ length: count }, (_, i) => ({ port: ports[i], busPort: ports[count + i] }));
  const clients: Array<Redis | Cluster> = [];

  const start = async (n: NodeProcess) => {
    n.proc = await spawnRedisServer([
      '--port', String(n.port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
      '--cluster-enabled', 'yes', '--cluster-node-timeout', String(nodeTimeoutMs),
      // The bus port defaults to port + 10000, which can be taken or beyond 65535 for a free port from the OS.
      '--cluster-port', String(n.busPort), '--cluster-config-file', join(dir, `nodes-${n.port}.conf`),
      // A replica that (re)joins syncs at once rather than after the default 5 s diskless-sync delay.
      '--repl-diskless-sync-delay', '0',
    ]);
  };
  const live = () => processes.filter(n => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
  const node = nodeConnections(HOST, clients);

  const viewOf = async (port: number): Promise<NodeView> => {
    const info = (await node(port).call('CLUSTER', 'INFO')) as string;
    const slots = (await node(port).call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>;
    const owners = new Map<number, number>();
    for (const [from, to, [, masterPort]] of slots) for (let s = from; s <= to; s++) owners.set(s, masterPort);
    return { ok: /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info), owners };
  };
  const views = async () => Promise.all(live().map(n => viewOf(n.port).catch(() => undefined)));
  /** The owner of a slot if every live node is ok and names the same one; undefined while they do not agree. */
  const agreedOwner = async (slot: number): Promise<number | undefined> => {
    const all = await views();
    const owners = new Set(all.map(v => (v?.ok ? v.owners.get(slot) : undefined)));
    const [owner] = owners;
    return owners.size === 1 && owner !== undefined && live().some(n => n.port === owner) ? owner : undefined;
  };
  const roleOf = async (port: number) => ((await node(port).call('ROLE')) as [string])[0];
  const replicasInSync = async () => {
    for (const n of live()) {
      const info = (await node(n.port).info('replication').catch(() => '')) as string;
      if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
    }
    return true;
  };
  /** Every live node ok with the same slot map, every replica in sync. */
  const settled = async () => {
    const all = await views();
    if (all.some(v => !v?.ok)) return false;
    const maps = all.map(v => JSON.stringify([...v!.owners]));
    return maps.every(m => m === maps[0]) && replicasInSync();
  };
  const slotOf = async (key: string) => (await node(live()[0].port).call('CLUSTER', 'KEYSLOT', key)) as number;
  const masterOfSlot = async (slot: number) => {
    let owner: number | undefined;
    await waitFor(async () => (owner = await agreedOwner(slot)) !== undefined, `every node to agree on the master of slot ${slot}`);
    return owner!;
  };
  const currentMasters = async () => {
    await waitFor(settled, 'every node to agree on the slot map');
    const view = await viewOf(live()[0].port);
    return [...new Set(view.owners.values())].sort((a, b) => a - b);
  };
  const myId = async (port: number) => (await node(port).call('CLUSTER', 'MYID')) as string;
  const stop = async () => {
    await closeClients(clients);
    await Promise.all(processes.map(n => killProcess(n.proc)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await Promise.all(processes.map(start));
    await run('redis-cli', [
      '--cluster', 'create', ...processes.map(n => `${HOST}:${n.port}`),
      '--cluster-replicas', String(replicasPerMaster), '--cluster-yes',
    ]);
    await waitFor(settled, 'the new cluster to be ok on every node, replicas in sync');
  } catch (e) {
    await stop();
    throw e;
  }

  const nodes = processes.map(n => ({ host: HOST, port: n.port }));
  return {
    nodes,
    connection: { type: 'cluster', nodes },
    client(options = {}) {
      const c = new Cluster(nodes, options);
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    node,
    slotOf,
    async masterOf(key) {
      return masterOfSlot(await slotOf(key));
    },
    masters: currentMasters,
    async keysOnEveryMaster(make) {
      const count = (await currentMasters()).length;
      const byMaster = new Map<number, string>();
      for (let i = 0; byMaster.size < count; i++) {
        const key = make(i);
        const master = await masterOfSlot(await slotOf(key));
        if (!byMaster.has(master)) byMaster.set(master, key);
      }
      return byMaster;
    },
    async killMasterOf(key, options = {}) {
      const slot = await slotOf(key);
      const old = await masterOfSlot(slot);
      const proc = processes.find(n => n.port === old)!.proc!;
      if (options.whileFrozen) {
        proc.kill('SIGSTOP');
        try {
          await options.whileFrozen(old);
        } finally {
          await killProcess(proc);
        }
      }
      await killProcess(proc);
      let promoted: number | undefined;
      await waitFor(
        async () => {
          promoted = await agreedOwner(slot);
          return promoted !== undefined && promoted !== old && (await roleOf(promoted)) === 'master';
        },
        `a replica of ${old} to be promoted for slot ${slot} on every node`,
      );
      return promoted!;
    },
    async restartNode(port) {
      const n = processes.find(p => p.port === port);
      if (!n) throw new Error(`restartNode(${port}): not a node of this cluster`);
      if (live().includes(n)) throw new Error(`restartNode(${port}): the node is running`);
      await start(n);
      await waitFor(async () => (await roleOf(port)) === 'slave' && settled(), `node ${port} to rejoin as a replica in sync`);
    },
    /*
     * Why not `redis-cli --cluster reshard`: it moves a number of slots (--cluster-slots N) that it picks itself,
     * the lowest-numbered slots of the source (redis-cli 7.0.15, clusterManagerComputeReshardTable; checked here:
     * `--cluster-slots 1` from the master of 10923-16383 moved slot 10923), so it cannot be told to move one
     * given slot, and a stream's slot is the lowest of its master only by chance.
     * This runs the per-slot procedure redis-cli runs for each slot it moves (clusterManagerMoveSlot), documented
     * under CLUSTER SETSLOT: IMPORTING on the target, MIGRATING on the source, MIGRATE ... KEYS in batches of
     * GETKEYSINSLOT, then SETSLOT ... NODE on the target, the source and every other master. Clients keep
     * running meanwhile: during the move they get ASK, afterwards MOVED from the source.
     */
    async moveSlotOf(key, toPort, options = {}) {
      const slot = await slotOf(key);
      const source = await masterOfSlot(slot);
      const masterPorts = await currentMasters();
      const target = toPort ?? masterPorts.find(p => p !== source)!;
      if (target === source || !masterPorts.includes(target)) {
        throw new Error(`moveSlotOf(${key}): ${target} is not a master other than ${source} (masters: ${masterPorts.join(', ')})`);
      }
      const [sourceId, targetId] = await Promise.all([myId(source), myId(target)]);
      await node(target).call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId);
      await node(source).call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId);
      const migrateKeys = async () => {
        for (;;) {
          const keys = (await node(source).call('CLUSTER', 'GETKEYSINSLOT', slot, 10)) as string[];
          if (keys.length === 0) return;
          await node(source).call('MIGRATE', HOST, target, '', 0, 10_000, 'KEYS', ...keys);
        }
      };
      await migrateKeys();
      await options.whileMigrating?.();
      await migrateKeys(); // nothing new lands on the source while it migrates (ASK), but check
      // The target first, so that it never answers MOVED back to the source (the order redis-cli uses).
      await node(target).call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
      await node(source).call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
      for (const other of masterPorts.filter(p => p !== source && p !== target)) {
        await node(other).call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
      }
      await waitFor(async () => (await agreedOwner(slot)) === target && settled(), `every node to see slot ${slot} on ${target}`);
      return target;
    },
    stop,
  };
}
