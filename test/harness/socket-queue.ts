import { readFileSync } from 'node:fs';

/**
 * Bytes received by the process listening on `port` that it has not read yet, over all its connections (Linux:
 * the rx_queue column of /proc/net/tcp and tcp6). Tells a test that a command reached a stopped server.
 */
export function unreadBytesAt(port: number): number {
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.trim().split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue ...
      const [, local, , , queues] = line.trim().split(/\s+/);
      if (parseInt(local.split(':')[1], 16) !== port) continue;
      total += parseInt(queues.split(':')[1], 16);
    }
  }
  return total;
}
