import type { LoggerService } from '@nestjs/common';
import { StreamKeys } from '../keys.js';
import type { RedisClient } from '../redis/redis-client.js';
import { redisErrorMessage } from '../redis/replies.js';
import type { StreamEntry } from './stream-entry.js';

/**
 * A hash of failures lives this long after the last failure recorded in it: far longer than any retry
 * schedule. It bounds what is left behind by entries that vanished before being settled here (trimmed,
 * XDELed, a crash between the ack and the clean-up).
 */
const RETENTION_MS = 7 * 24 * 3600_000;

/**
 * The handler failures of each pending entry, kept in Redis, so whoever takes an entry over (after a crash, a
 * restart, a stop) can tell failed attempts from interrupted ones: Redis counts deliveries, and a delivery
 * whose consumer crashed counts the same as one whose handler threw. An entry delivered N times with F
 * failures recorded was interrupted N - 1 - F times.
 *
 * `<stream>:failures`, a hash, field `<id>:<group>` -> failures. Written only when a handler fails and is
 * to be retried, read only for an entry delivered before (claimed, recovered, taken over), cleared when such
 * an entry is settled: nothing on the path of an entry that succeeds the first time.
 */
export class FailureRecord {
  constructor(
    private readonly redis: RedisClient,
    private readonly group: string,
    private readonly logger: LoggerService,
  ) {}

  /**
   * Counts a handler failure of the entry (to be retried). In memory at once; in Redis without waiting:
   * if the write is lost, a takeover would count this attempt as interrupted, not failed.
   */
  record(entry: StreamEntry): void {
    entry.failures++;
    const key = StreamKeys.failures(entry.stream);
    this.redis
      .pipeline()
      .hincrby(key, StreamKeys.failuresField(entry.id, this.group), 1)
      .pexpire(key, RETENTION_MS)
      .exec()
      .then(replies => {
        const err = replies?.find(([e]) => e)?.[0];
        if (err) this.warn(`Could not record a failed attempt of entry ${entry.id} of ${entry.stream}`, err);
      })
      .catch(err => this.warn(`Could not record a failed attempt of entry ${entry.id} of ${entry.stream}`, err));
  }

  /** The entry is settled (acked, dead-lettered): its record goes, if it has one. */
  forget(entry: StreamEntry): void {
    if (entry.failures === 0) return;
    this.redis
      .hdel(StreamKeys.failures(entry.stream), StreamKeys.failuresField(entry.id, this.group))
      .catch(err => this.warn(`Could not clear the failed attempts of entry ${entry.id} of ${entry.stream}`, err));
  }

  /**
   * Sets `failures` on the entries of `stream` delivered before (one HMGET). If Redis cannot say, each earlier
   * delivery counts as a failure, as if none was interrupted: the attempts are then those Redis counted.
   */
  async lookUp(stream: string, entries: StreamEntry[]): Promise<void> {
    const redelivered = entries.filter(e => e.deliveryCount > 1);
    if (redelivered.length === 0) return;
    try {
      const counts = await this.redis.hmget(StreamKeys.failures(stream), ...redelivered.map(e => StreamKeys.failuresField(e.id, this.group)));
      let interrupted = 0;
      redelivered.forEach((entry, i) => {
        entry.failures = Math.min(entry.deliveryCount - 1, Number(counts[i] ?? 0) || 0);
        if (entry.deliveryCount - 1 > entry.failures) interrupted++;
      });
      if (interrupted > 0) {
        this.logger.warn?.(
          `${interrupted} ${interrupted === 1 ? 'entry' : 'entries'} of ${stream} taken over after an interrupted delivery (a consumer crashed, stalled or stopped while handling it): running again, not counted as failed attempts`,
        );
      }
    } catch (err) {
      this.warn(`Could not read the failed attempts of ${redelivered.length} entries of ${stream}; counting each earlier delivery as a failure`, err);
      for (const entry of redelivered) entry.failures = entry.deliveryCount - 1;
    }
  }

  private warn(what: string, err: unknown): void {
    this.logger.warn?.(`${what}: ${redisErrorMessage(err)}`);
  }
}
