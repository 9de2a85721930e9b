/**
 * Redis URLs without their secrets. A connection string usually carries a password (`redis://:pw@host`),
 * and Node's URL errors carry their whole input: every URL the transport shows goes through here first.
 */

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The URL with its user-info replaced: `redis://user:pw@host` -> `redis://user:***@host`, `redis://pw@host`
 * -> `redis://***@host` (a lone name may be a password). Works on malformed URLs too: everything up to the
 * last `@` counts as user-info, since a malformed password may hold `/`, `@` or `:`.
 */
export function redactRedisUrl(url: string): string {
  const start = SCHEME.exec(url)?.[0].length ?? 0;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const userInfo = url.slice(start, at);
  const colon = userInfo.indexOf(':');
  const shown = colon === -1 ? '***' : `${userInfo.slice(0, colon)}:***`;
  return `${url.slice(0, start)}${shown}${url.slice(at)}`;
}

/**
 * What is wrong with a connection string ioredis would be given, or undefined when it is fine. Checked with
 * the WHATWG URL parser, because ioredis's parser (Node's legacy `url.parse`) accepts `redis://ho st:6379`
 * as host `ho`, prints the whole URL in a deprecation warning for a bad port, and throws "URI malformed" for
 * a bad `%` escape. A bare port (`'6379'`) and a Unix socket path (`'/tmp/redis.sock'`) are valid too.
 */
export function redisUrlProblem(url: string): string | undefined {
  if (/^\d+$/.test(url) || url.startsWith('/')) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(SCHEME.test(url) ? url : `redis://${url}`);
  } catch {
    return `is not a valid Redis URL: ${redactRedisUrl(url)}`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    return `must be a redis:// or rediss:// URL, got ${parsed.protocol}// (${redactRedisUrl(url)})`;
  }
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    return `has a malformed %-escape in its user name or password: ${redactRedisUrl(url)}`;
  }
  return undefined;
}
