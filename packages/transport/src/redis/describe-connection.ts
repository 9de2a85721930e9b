import type { ConnectionOptions } from '../options/connection.js';
import { isClusterConnection } from './redis-client.js';
import { redactRedisUrl } from './redis-url.js';

/** Where a connection goes, for messages: `redis://127.0.0.1:6390`, `rediss://user:***@host:6380/2`, a socket path. */
export function describeConnection(connection: ConnectionOptions): string {
  if (typeof connection === 'string') return redactRedisUrl(connection);
  if (isClusterConnection(connection)) {
    const [first, ...others] = connection.nodes;
    return `cluster ${first.host}:${first.port}${others.length > 0 ? ` (+${others.length} seed node${others.length === 1 ? '' : 's'})` : ''}`;
  }
  if (connection.url) return redactRedisUrl(connection.url);
  if (connection.path) return connection.path;
  const scheme = connection.tls ? 'rediss' : 'redis';
  const user = connection.username || connection.password ? `${connection.username ?? ''}${connection.password ? ':***' : ''}@` : '';
  const db = connection.db ? `/${connection.db}` : '';
  if (connection.sentinels) return `sentinel master "${connection.name ?? ''}"${db}`;
  return `${scheme}://${user}${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}${db}`;
}
