import type { Redis } from 'ioredis';
import { FatalConnectionError } from '../errors/fatal-connection.error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import type { ResolvedClientOptions } from '../options.js';
import { createRedis } from '../redis/create-redis.js';
import { isCertificateError, isFatalRedisError } from '../redis/replies.js';
import { describeConnection } from '../redis/redis-url.js';

/** A write (or connect()) waiting for the connection to be ready. */
interface Waiter {
  go(): void;
  fail(err: unknown): void;
}

/**
 * The producer's connection, with bounded waits: every write (and connect()) settles within its time limit,
 * whatever Redis does. While the connection is not ready, writes wait here (at most offlineQueueLimit of
 * them), not in ioredis's unbounded offline queue, and one that times out was never sent. A wrong password or
 * a refused certificate fails every waiting and new write at once, while ioredis keeps reconnecting (every
 * 2 s at most), so a fixed password is picked up without a restart.
 */
export class ProducerConnection {
  readonly redis: Redis;
  private readonly waiting = new Set<Waiter>();
  private lastError?: unknown;
  private fatal?: FatalConnectionError;
  private recycled = false;

  constructor(private readonly options: ResolvedClientOptions) {
    this.redis = createRedis(options.connection, 'producer', {
      // Auto-pipelining: concurrent emits share one round trip instead of waiting for each other.
      enableAutoPipelining: true,
      // Writes in flight when the connection drops are sent again once, on the first reconnect, then fail
      // (ioredis's default of 20 retries holds them about 10 s, ioredis 6's about 73 s).
      maxRetriesPerRequest: 1,
    });
    this.redis.on('ready', () => {
      this.lastError = undefined;
      this.fatal = undefined;
      this.recycled = false;
      for (const waiter of this.takeWaiting()) waiter.go();
    });
    // Also keeps an ioredis 'error' event from crashing the process: errors reach callers through their writes.
    this.redis.on('error', err => {
      this.lastError = err;
      if (!isFatalRedisError(err) && !isCertificateError(err)) return;
      this.fatal = new FatalConnectionError(
        `Redis (${this.where}) refused this client: ${(err as Error).message}. Check the connection's user, password and TLS settings; retrying will not help`,
        { cause: err },
      );
      for (const waiter of this.takeWaiting()) waiter.fail(this.fatal);
    });
  }

  /** Resolves once Redis is ready; rejects after connectTimeoutMs, or at once on a fatal error. */
  ready(): Promise<void> {
    return this.run('connect()', () => Promise.resolve(), this.options.connectTimeoutMs, 'connectTimeoutMs', 'connect');
  }

  /**
   * Runs `command` once the connection is ready; rejects with RedisUnavailableError if it has not
   * completed within writeTimeoutMs (waiting for the connection included). `what` names the call in errors.
   */
  write<T>(what: string, command: (redis: Redis) => Promise<T>): Promise<T> {
    return this.run(what, command, this.options.writeTimeoutMs, 'writeTimeoutMs', 'write');
  }

  /** Fails the writes still waiting for a connection (close()). */
  abort(reason: string): void {
    for (const waiter of this.takeWaiting()) waiter.fail(new RedisUnavailableError(`${reason}: not written`));
  }

  private run<T>(what: string, command: (redis: Redis) => Promise<T>, limitMs: number, option: string, kind: 'connect' | 'write'): Promise<T> {
    if (this.redis.status !== 'ready') {
      if (this.fatal) return Promise.reject(this.fatal);
      if (kind === 'write' && this.waiting.size >= this.options.offlineQueueLimit) {
        return Promise.reject(
          new RedisUnavailableError(
            `${what} failed: ${this.waiting.size} writes are already waiting for Redis (${this.where}) to be reachable (option offlineQueueLimit); not written`,
            { cause: this.lastError },
          ),
        );
      }
    }
    return new Promise<T>((resolve, reject) => {
      let sent = false;
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.waiting.delete(waiter);
        settle();
      };
      const waiter: Waiter = {
        go: () => {
          sent = true;
          command(this.redis).then(
            value => finish(() => resolve(value)),
            err => finish(() => reject(this.explain(what, err))),
          );
        },
        fail: err => finish(() => reject(err)),
      };
      const timer = setTimeout(() => finish(() => reject(this.timedOut(what, sent, limitMs, option, kind))), limitMs);
      if (this.redis.status === 'ready') waiter.go();
      else this.waiting.add(waiter);
    });
  }

  private timedOut(what: string, sent: boolean, limitMs: number, option: string, kind: 'connect' | 'write'): RedisUnavailableError {
    const cause = this.lastError;
    const last = cause ? `; last error: ${(cause as Error).message ?? String(cause)}` : '';
    if (!sent) {
      const written = kind === 'write' ? '; nothing was written' : '';
      return new RedisUnavailableError(`${what} failed: Redis (${this.where}) not reachable within ${limitMs} ms (option ${option})${last}${written}`, { cause });
    }
    // Sent on a connection that looked ready and no answer: a frozen socket or a partition. A new connection
    // is the only way out (TCP may take many minutes to notice); one reconnect per stuck connection.
    if (this.redis.status === 'ready' && !this.recycled) {
      this.recycled = true;
      this.redis.disconnect(true);
    }
    return new RedisUnavailableError(
      `${what} failed: no answer from Redis (${this.where}) within ${limitMs} ms (option ${option}); the entry may or may not have been added${last}`,
      { cause },
    );
  }

  /** ioredis's MaxRetriesPerRequestError says which ioredis option to change: say what happened instead. */
  private explain(what: string, err: unknown): unknown {
    if ((err as Error)?.name !== 'MaxRetriesPerRequestError') return err;
    const last = this.lastError ? `; last error: ${(this.lastError as Error).message}` : '';
    return new RedisUnavailableError(
      `${what} failed: the connection to Redis (${this.where}) was lost while writing; the entry may or may not have been added${last}`,
      { cause: this.lastError ?? err },
    );
  }

  private takeWaiting(): Waiter[] {
    const waiters = [...this.waiting];
    this.waiting.clear();
    return waiters;
  }

  private get where(): string {
    return describeConnection(this.options.connection);
  }
}
