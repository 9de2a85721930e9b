import { Redis, type Cluster } from 'ioredis';

/**
 * Closes the harness's own ioredis connections: quit() closes cleanly (disconnect() would leave ioredis's 2 s
 * socket-close timer behind); one that does not answer within 500 ms is disconnected.
 */
export async function closeClients(clients: Array<Redis | Cluster>): Promise<void> {
  await Promise.all(
    clients.splice(0).map(async c => {
      if (c.status !== 'ready') return c.disconnect();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>(resolve => (timer = setTimeout(() => (c.disconnect(), resolve()), 500)));
      await Promise.race([c.quit().then(() => undefined, () => c.disconnect()), late]);
      clearTimeout(timer);
    }),
  );
}

/**
 * One plain connection per node port, made on first use and kept in `clients` (closed with them). No retries: a
 * killed node's connection fails its commands at once instead of queueing them.
 */
export function nodeConnections(host: string, clients: Array<Redis | Cluster>): (port: number) => Redis {
  const byPort = new Map<number, Redis>();
  return port => {
    let c = byPort.get(port);
    if (!c) {
      c = new Redis(port, host, { maxRetriesPerRequest: 0, retryStrategy: () => 200 });
      c.on('error', () => undefined);
      byPort.set(port, c);
      clients.push(c);
    }
    return c;
  };
}
