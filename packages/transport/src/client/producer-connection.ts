import type { RedisOptions } from 'ioredis';
import type { RedisClient } from '../redis/redis-client.js';
import { ClientClosedError } from '../errors/client-closed.error.js';
import { DurabilityError } from '../errors/durability.error.js';
import { FatalConnectionError } from '../errors/fatal-connection.error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import type { ResolvedClientOptions } from '../options/client.js';
import { createRedis } from '../redis/create-redis.js';
import { commandError } from '../redis/command-errors.js';
import { isCertificateError, isConnectionLost, isFatalRedisError, redisErrorMessage, refusedWhileUnavailable } from '../redis/replies.js';
import { describeConnection } from '../redis/describe-connection.js';

/**
 * Whether the writes a lost connection left unanswered are sent again on the next connection. They are not:
 * Redis may have run an XADD whose reply was lost, and sending it again adds the entry a second time, which
 * the caller never hears of (10,000 emits resolved, 15,000 entries written, in issue 19's probe). Instead
 * each such write rejects at once with RedisUnavailableError ("the entry may or may not have been added"),
 * and the caller decides whether to write it again.
 *
 * The seam for idempotent writes: once a write carries a key that Redis (or a script) deduplicates on, a
 * resend can no longer add an entry twice, and resending such writes may be turned back on for them.
 */
const RESEND_UNANSWERED_WRITES = false;

/**
 * The ioredis options for unanswered writes. Without resending, `maxRetriesPerRequest: 0` rejects them when the
 * connection closes: with autoResendUnfulfilledCommands off, ioredis 5.9 drops the commands it would have
 * resent on the reconnect without settling them (`built/redis/event_handler.js`, readyHandler), so only
 * commandTimeout would ever reject them; the 0 makes closeHandler flush them with MaxRetriesPerRequestError.
 */
function unansweredWrites(resend: boolean): RedisOptions {
  // Resending: sent again once, on the first reconnect, then failed (ioredis's default of 20 retries holds
  // them about 10 s).
  if (resend) return { autoResendUnfulfilledCommands: true, maxRetriesPerRequest: 1 };
  return { autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 };
}

/** A write or a connect() waiting for the connection to be ready. */
interface Waiter {
  go(): void;
  fail(err: unknown): void;
  /** The error for this waiter when the client is closed under it. */
  closed(): Error;
}

/**
 * The producer's connection, with bounded waits: every write settles within writeTimeoutMs and connect()
 * within connectTimeoutMs, whatever Redis does.
 * - Connection ready (the common case): the command goes out at once, bounded by ioredis's commandTimeout,
 *   a timer ioredis keeps per command anyway; a wrapper promise and timer of our own per emit cost about
 *   a sixth of the producer's CPU per emit.
 * - Not ready: the write waits here (at most offlineQueueLimit of them), not in ioredis's unbounded offline
 *   queue, under a timer of its own that runs on after it is sent; one that times out while waiting was
 *   never sent.
 * A wrong password or a refused certificate fails every waiting and new write at once, while ioredis keeps
 * reconnecting (every 2 s at most), so a fixed password is picked up without a restart.
 */
export class ProducerConnection {
  readonly redis: RedisClient;
  private readonly waiting = new Set<Waiter>();
  private waitingWrites = 0;
  private lastError?: unknown;
  private fatal?: FatalConnectionError;
  private recycled = false;

  constructor(private readonly options: ResolvedClientOptions) {
    this.redis = createRedis(
      options.connection,
      'producer',
      {
        // Auto-pipelining: concurrent emits share one round trip instead of waiting for each other.
        enableAutoPipelining: true,
        ...unansweredWrites(RESEND_UNANSWERED_WRITES),
        commandTimeout: options.writeTimeoutMs,
      },
      // A Redis Cluster sends a command again when its node's connection closes ("Connection is closed."),
      // after retryDelayOnFailover: the same silent resend, one level up. 0 turns that retry off.
      RESEND_UNANSWERED_WRITES ? {} : { retryDelayOnFailover: 0 },
    );
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
      const hint = isCertificateError(err) ? '' : "; check the connection's username, password and ACL rules";
      this.fatal = new FatalConnectionError(
        `RedisStreamsClient could not connect: ${redisErrorMessage(err)} (${this.where})${hint}; retrying will not help`,
        { cause: err },
      );
      for (const waiter of this.takeWaiting()) waiter.fail(this.fatal);
    });
  }

  /** Resolves once Redis is ready; rejects after connectTimeoutMs, or at once on a fatal error. */
  ready(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return this.wait('connect()', '', () => Promise.resolve(), this.options.connectTimeoutMs, 'connectTimeoutMs', false);
  }

  /**
   * Runs `command` (an XADD to `stream`, a script that adds to it, or `commandName` on that key) once the connection is ready; rejects
   * with RedisUnavailableError if it has not completed within writeTimeoutMs (waiting for the connection
   * included), plus `confirmMs` for a durable write (its WAIT). `what` names the call in errors; a refusal by
   * Redis names the command and the stream.
   */
  write<T>(what: string, stream: string, command: (redis: RedisClient) => Promise<T>, confirmMs = 0, commandName = 'XADD'): Promise<T> {
    if (this.redis.status === 'ready') return command(this.redis).catch(err => Promise.reject(this.explain(what, stream, err, commandName)));
    if (this.waitingWrites >= this.options.offlineQueueLimit && !this.fatal) {
      return Promise.reject(
        new RedisUnavailableError(
          `${what} failed: ${this.waitingWrites} writes are already waiting for Redis (${this.where}) to be reachable (option offlineQueueLimit); not written`,
          { cause: this.lastError },
        ),
      );
    }
    return this.wait(what, stream, command, this.options.writeTimeoutMs, 'writeTimeoutMs', true, confirmMs, commandName);
  }

  /**
   * Fails the writes and connects still waiting for a connection: with `err`, or each with a ClientClosedError
   * (close()). The connection itself is the caller's to end.
   */
  abort(err?: unknown): void {
    for (const waiter of this.takeWaiting()) waiter.fail(err ?? waiter.closed());
  }

  /**
   * Waits for the connection (up to limitMs in all, the command included, plus confirmMs once it is sent: a
   * durable write's WAIT), then runs `command`.
   */
  private wait<T>(
    what: string, stream: string, command: (redis: RedisClient) => Promise<T>, limitMs: number, option: string, isWrite: boolean, confirmMs = 0,
    commandName = 'XADD',
  ): Promise<T> {
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise<T>((resolve, reject) => {
      let sent = false;
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!sent && this.waiting.delete(waiter) && isWrite) this.waitingWrites--;
        settle();
      };
      const waiter: Waiter = {
        go: () => {
          sent = true;
          if (confirmMs > 0) {
            clearTimeout(timer);
            timer = setTimeout(onTimeout, limitMs - (Date.now() - started) + confirmMs);
          }
          command(this.redis).then(
            value => finish(() => resolve(value)),
            err => finish(() => reject(this.explain(what, stream, err, commandName))),
          );
        },
        fail: err => finish(() => reject(err)),
        closed: () =>
          new ClientClosedError(
            isWrite
              ? `${what} failed: the client was closed while the write waited for Redis (${this.where}) to be reachable; nothing was written`
              : `${what} failed: the client was closed while connecting to Redis (${this.where})${this.lastErrorText()}`,
            { cause: this.lastError },
          ),
      };
      const started = Date.now();
      const onTimeout = () => finish(() => reject(sent ? this.noAnswer(what) : this.unreachable(what, limitMs, option, isWrite)));
      let timer = setTimeout(onTimeout, limitMs);
      this.waiting.add(waiter);
      if (isWrite) this.waitingWrites++;
    });
  }

  private unreachable(what: string, limitMs: number, option: string, isWrite: boolean): RedisUnavailableError {
    const written = isWrite ? '; nothing was written' : '';
    return new RedisUnavailableError(
      `${what} failed: Redis (${this.where}) not reachable within ${limitMs} ms (option ${option})${this.lastErrorText()}${written}`,
      { cause: this.lastError },
    );
  }

  /**
   * A write sent on a connection that looked ready got no answer: a frozen socket, a partition or a hung
   * server. A new connection is the only way out (TCP may take many minutes to notice): one reconnect per
   * stuck connection.
   */
  private noAnswer(what: string): RedisUnavailableError {
    this.recycle();
    return new RedisUnavailableError(
      `${what} failed: no answer from Redis (${this.where}) within ${this.options.writeTimeoutMs} ms (option writeTimeoutMs); the entry may or may not have been added`,
      { cause: this.lastError, sent: true },
    );
  }

  private recycle(): void {
    if (this.redis.status === 'ready' && !this.recycled) {
      this.recycled = true;
      this.redis.disconnect(true);
    }
  }

  /**
   * ioredis's own errors name ioredis options or nothing at all: say what happened instead. Redis's refusals
   * (NOPERM, WRONGTYPE, OOM) name the command and the stream. A durable write's unconfirmed entry is reported
   * as it is (a WAIT that got no answer at all still means a stuck connection).
   */
  private explain(what: string, stream: string, err: unknown, commandName: string): unknown {
    const e = err as Error;
    if (e instanceof DurabilityError) {
      if ((e.cause as Error | undefined)?.message === 'Command timed out') this.recycle();
      return e;
    }
    if (e?.message === 'Command timed out') return this.noAnswer(what);
    // A node failing over or restarting refuses the command before running it: nothing was written, try again.
    const refusal = refusedWhileUnavailable(err);
    if (refusal !== undefined) {
      return new RedisUnavailableError(`${what} failed: Redis (${this.where}) is failing over or restarting (${refusal}); nothing was written`, { cause: err });
    }
    if (!isConnectionLost(err)) return commandError(err, commandName, stream);
    return new RedisUnavailableError(
      `${what} failed: the connection to Redis (${this.where}) was lost while writing; the entry may or may not have been added${this.lastErrorText()}`,
      { cause: this.lastError ?? err, sent: true },
    );
  }

  private takeWaiting(): Waiter[] {
    const waiters = [...this.waiting];
    this.waiting.clear();
    this.waitingWrites = 0;
    return waiters;
  }

  private lastErrorText(): string {
    const err = this.lastError;
    return err ? `; last error: ${(err as Error).message ?? String(err)}` : '';
  }

  private get where(): string {
    return describeConnection(this.options.connection);
  }
}
