import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { closeClients, nodeConnections } from './close-clients.js';
import { distinctFreePorts, killProcess, SENTINEL_READY, spawnRedisServer } from './redis-process.js';
import { waitFor } from './wait.js';

const HOST = '127.0.0.1';
const NAME = 'mymaster';

export interface RedisSentinelOptions {
  /** down-after-milliseconds: how long the master may not answer before a sentinel thinks it down. @default 1000 */
  downAfterMs?: number;
  /** failover-timeout (also: 2x it before a failed election is retried). @default 3000 */
  failoverTimeoutMs?: number;
}

/** One master, one replica and three sentinels (quorum 2), started by the tests from PATH. */
export interface TestRedisSentinel {
  /** ioredis's Sentinel options: what the transport's `connection` takes. */
  readonly connection: { sentinels: Array<{ host: string; port: number }>; name: string };
  /** The two data nodes' ports (the first one started as the master). */
  readonly dataPorts: number[];
  /** The master's port, as every sentinel reports it now. */
  masterPort(): Promise<number>;
  /** A new ioredis client through the sentinels (closed by stop()). */
  client(options?: RedisOptions): Redis;
  /** A plain connection to one data node (closed by stop()). */
  node(port: number): Redis;
  /**
   * SIGKILLs the master, then waits until every sentinel reports the replica as the new master and it answers
   * ROLE as master. Returns the new master's port.
   */
  killMaster(): Promise<number>;
  /**
   * Starts the killed master again (same port and dir, no data), then waits until the sentinels have made it a
   * replica of the new master and it is in sync (`master_link_status:up`), so that WAIT 1 can succeed again.
   */
  restartOldMaster(): Promise<void>;
  stop(): Promise<void>;
}

interface DataNode {
  port: number;
  proc?: ChildProcess;
}

export async function startRedisSentinel(opts: RedisSentinelOptions = {}): Promise<TestRedisSentinel> {
  const { downAfterMs = 1000, failoverTimeoutMs = 3000 } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'nestream-sentinel-'));
  const ports = await distinctFreePorts(5);
  const data: DataNode[] = ports.slice(0, 2).map(port => ({ port }));
  const sentinels: Array<{ port: number; proc?: ChildProcess }> = ports.slice(2).map(port => ({ port }));
  const clients: Redis[] = [];
  let killed: DataNode | undefined;

  const plain = nodeConnections(HOST, clients);
  const startData = async (n: DataNode, replicaOf?: number) => {
    n.proc = await spawnRedisServer([
      '--port', String(n.port), '--bind', HOST, '--dir', dir, '--dbfilename', `dump-${n.port}.rdb`, '--save', '',
      '--appendonly', 'no', '--protected-mode', 'no',
      // A replica that (re)joins syncs at once rather than after the default 5 s diskless-sync delay.
      '--repl-diskless-sync-delay', '0',
      ...(replicaOf ? ['--replicaof', HOST, String(replicaOf)] : []),
    ]);
  };
  const startSentinel = async (s: { port: number; proc?: ChildProcess }, masterPort: number) => {
    // A sentinel rewrites its config file (what it learns about replicas and other sentinels): one file each.
    const file = join(dir, `sentinel-${s.port}.conf`);
    writeFileSync(
      file,
      [
        `port ${s.port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        'protected-mode no',
        // Everything is addressed by IP here; hostnames stay off (the default), said for the reader.
        'sentinel resolve-hostnames no',
        'sentinel announce-hostnames no',
        `sentinel monitor ${NAME} ${HOST} ${masterPort} 2`,
        `sentinel down-after-milliseconds ${NAME} ${downAfterMs}`,
        `sentinel failover-timeout ${NAME} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${NAME} 1`,
        '',
      ].join('\n'),
    );
    s.proc = await spawnRedisServer([file, '--sentinel'], SENTINEL_READY);
  };
  const reportedMaster = async (port: number) => {
    const addr = (await plain(port).call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string] | null;
    return addr ? Number(addr[1]) : undefined;
  };
  /** The master port if every sentinel reports the same one, undefined otherwise. */
  const agreedMaster = async () => {
    const all = await Promise.all(sentinels.map(s => reportedMaster(s.port).catch(() => undefined)));
    return all.every(p => p !== undefined && p === all[0]) ? all[0] : undefined;
  };
  const fields = (row: string[]) => Object.fromEntries(Array.from({ length: row.length / 2 }, (_, i) => [row[2 * i], row[2 * i + 1]]));
  /**
   * Every sentinel sees the master, the other two sentinels, and `replica` as a replica of it that answers;
   * with `linkUp`, also reporting its link to the master up (a sentinel learns that from INFO, which it sends
   * to a replica only every 10 s).
   */
  const sentinelsSee = async (master: number, replica: number, linkUp: boolean) => {
    for (const s of sentinels) {
      if ((await reportedMaster(s.port).catch(() => undefined)) !== master) return false;
      const others = ((await plain(s.port).call('SENTINEL', 'SENTINELS', NAME)) as string[][]).map(fields);
      if (others.filter(o => !/s_down|disconnected/.test(o.flags)).length !== sentinels.length - 1) return false;
      const replicas = ((await plain(s.port).call('SENTINEL', 'REPLICAS', NAME)) as string[][]).map(fields);
      const r = replicas.find(x => Number(x.port) === replica);
      if (!r || /s_down|disconnected/.test(r.flags)) return false;
      if (linkUp && (r['master-link-status'] !== 'ok' || Number(r['master-port']) !== master)) return false;
    }
    return true;
  };
  const inSyncWith = async (replica: number, master: number) => {
    const info = (await plain(replica).info('replication').catch(() => '')) as string;
    return info.includes('role:slave') && info.includes(`master_port:${master}`) && info.includes('master_link_status:up');
  };
  const stop = async () => {
    await closeClients(clients);
    await Promise.all([...sentinels, ...data].map(n => killProcess(n.proc)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await startData(data[0]);
    await startData(data[1], data[0].port);
    await Promise.all(sentinels.map(s => startSentinel(s, data[0].port)));
    await waitFor(
      async () => (await inSyncWith(data[1].port, data[0].port)) && sentinelsSee(data[0].port, data[1].port, true),
      'the sentinels to know the replica and each other',
    );
  } catch (e) {
    await stop();
    throw e;
  }

  const masterPort = async () => {
    let port: number | undefined;
    await waitFor(async () => (port = await agreedMaster()) !== undefined, 'every sentinel to report the same master');
    return port!;
  };
  return {
    connection: { sentinels: sentinels.map(s => ({ host: HOST, port: s.port })), name: NAME },
    dataPorts: data.map(n => n.port),
    masterPort,
    client(options = {}) {
      const c = new Redis({ sentinels: sentinels.map(s => ({ host: HOST, port: s.port })), name: NAME, ...options });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    node: plain,
    async killMaster() {
      const old = await masterPort();
      killed = data.find(n => n.port === old)!;
      await killProcess(killed.proc);
      let promoted: number | undefined;
      await waitFor(
        async () => {
          promoted = await agreedMaster();
          if (promoted === undefined || promoted === old) return false;
          return ((await plain(promoted).call('ROLE').catch(() => [])) as string[])[0] === 'master';
        },
        `the sentinels to promote the replica of ${old}`,
        30_000,
      );
      return promoted!;
    },
    async restartOldMaster() {
      if (!killed) throw new Error('restartOldMaster(): killMaster() did not run');
      const old = killed;
      killed = undefined;
      const master = await masterPort();
      await startData(old);
      // A sentinel waits a few seconds (4 x its 2 s publish period) before it turns a restarted old master into a replica.
      await waitFor(
        async () => (await inSyncWith(old.port, master)) && sentinelsSee(master, old.port, false),
        `the sentinels to make ${old.port} a replica of ${master}, in sync`,
        30_000,
      );
    },
    stop,
  };
}
