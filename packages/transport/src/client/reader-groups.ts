import { isPermissionDenied } from '../redis/command-errors.js';
import type { RedisClient } from '../redis/redis-client.js';

/**
 * How long an answer to "does any consumer group read this stream?" is trusted. A stream with a group keeps
 * it (groups are deleted by hand, rarely): one XINFO GROUPS a minute per pattern at most. "No group" is
 * re-asked after a second, so a server started just after a request failed is seen by the next ones at once.
 */
const HAS_GROUP_MS = 60_000;
const NO_GROUP_MS = 1000;
/** The check could not be made (no XINFO permission, say): not asked again for a while, never a failure. */
const UNKNOWN_MS = 60_000;

interface Known {
  hasGroup: boolean | undefined;
  until: number;
}

/**
 * Whether a request stream is read by any consumer group, learnt with one XINFO GROUPS after a request was
 * written and kept per stream (see the durations above), so a send() to a pattern nobody serves fails at
 * once instead of after requestTimeoutMs, without a round trip per request once known.
 */
export class ReaderGroups {
  private readonly known = new Map<string, Known>();
  /** One XINFO per stream in flight at most: concurrent sends share it. */
  private readonly asking = new Map<string, Promise<boolean | undefined>>();

  /** The cached answer: true, false, or undefined (not known, or known not to be knowable). */
  cached(stream: string, now = Date.now()): boolean | undefined {
    const known = this.known.get(stream);
    return known && known.until > now ? known.hasGroup : undefined;
  }

  /** Whether a cached answer is still fresh (then no XINFO is sent). */
  isFresh(stream: string, now = Date.now()): boolean {
    const known = this.known.get(stream);
    return known !== undefined && known.until > now;
  }

  /** Asks Redis (XINFO GROUPS); resolves with whether a group reads the stream, or undefined if Redis would not say. */
  ask(redis: RedisClient, stream: string): Promise<boolean | undefined> {
    let asking = this.asking.get(stream);
    if (asking) return asking;
    asking = (redis.xinfo('GROUPS', stream) as Promise<unknown[]>).then(
      groups => this.remember(stream, Array.isArray(groups) && groups.length > 0),
      // Nothing is concluded (the request waits for its reply as before); only a refusal (NOPERM: the user
      // may not run XINFO) is remembered, a lost connection is not.
      err => (isPermissionDenied(err) ? this.remember(stream, undefined) : undefined),
    );
    this.asking.set(stream, asking);
    void asking.finally(() => this.asking.delete(stream));
    return asking;
  }

  private remember(stream: string, hasGroup: boolean | undefined): boolean | undefined {
    const ms = hasGroup === true ? HAS_GROUP_MS : hasGroup === false ? NO_GROUP_MS : UNKNOWN_MS;
    this.known.set(stream, { hasGroup, until: Date.now() + ms });
    return hasGroup;
  }
}
