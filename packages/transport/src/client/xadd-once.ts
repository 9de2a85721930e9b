import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import { runScript } from '../redis/lua.js';
import { SCRIPTS } from '../redis/scripts/scripts.generated.js';
import type { DurableWrites } from './durable-writes.js';
import type { ProducerConnection } from './producer-connection.js';

/** One emit with an idempotency key: its XADD arguments (the stream first) and the record of its key. */
export interface KeyedWrite {
  what: string;
  stream: string;
  /** `StreamKeys.idempotency(stream, key)`: in the stream's slot. */
  record: string;
  /** XADD's arguments, the stream first: `[stream, (MAXLEN ~ n,) *, field, value, ...]`. */
  xaddArgs: Array<string | number>;
}

/**
 * An emit with an idempotency key (`xadd-once-2.lua`): adds the entry unless the key was written to the stream
 * within `windowMs`, and resolves with the entry id either way (the first entry's, for a repeat). A write whose
 * connection was lost before Redis answered may or may not have been added: it is sent again, which the key
 * makes safe (up to MAX_TRIES in all), so the caller hears of a lost connection only if every try fails.
 */
export async function xaddOnce(
  connection: ProducerConnection,
  durable: DurableWrites | undefined,
  windowMs: number,
  write: KeyedWrite,
  confirmMs: number,
): Promise<string> {
  const argv = [windowMs, ...write.xaddArgs.slice(1)];
  const once = (): Promise<string> =>
    durable
      ? connection.write(
          write.what,
          write.stream,
          // EVAL, not EVALSHA: ioredis would send an unknown script again outside the pipeline its WAIT closes.
          () => durable.run(write.what, write.stream, [['eval', [SCRIPTS.xaddOnce.lua, 2, write.stream, write.record, ...argv]]]).then(r => idOf(r[0])),
          confirmMs,
          'EVAL',
        )
      : connection.write(write.what, write.stream, redis => runScript<[string, number]>(redis, 'xaddOnce', [write.stream, write.record], argv).then(idOf), 0, 'EVALSHA');
  for (let tries = 1; ; tries++) {
    try {
      return await once();
    } catch (err) {
      if (!mayHaveBeenAdded(err) || tries === MAX_TRIES) throw err;
    }
  }
}

// A write sent again right after a lost connection can meet the same closing socket before the new one is up.
const MAX_TRIES = 3;

function idOf(reply: unknown): string {
  return (reply as [string, number])[0];
}

/** The connection was lost, or no answer came, after the write was sent: Redis may or may not have run it. */
function mayHaveBeenAdded(err: unknown): boolean {
  return err instanceof RedisUnavailableError && err.sent;
}
