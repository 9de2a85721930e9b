import type { Cluster, Redis } from 'ioredis';

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
