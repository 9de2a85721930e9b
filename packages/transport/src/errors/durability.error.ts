import { brand } from '../brand.js';

/**
 * A durable write (client option `durability`) was added to the master, but Redis's WAIT did not confirm that
 * enough replicas have it. The entry exists and may be delivered; it is not confirmed to survive a failover
 * (a replica promoted without it loses it). Retrying can add it twice: consumers see at-least-once delivery
 * either way. `cause` is WAIT's own error when WAIT failed rather than answered.
 */
export class DurabilityError extends Error {
  static {
    brand(this, 'DurabilityError');
  }

  override readonly name = 'DurabilityError';

  constructor(
    /** What was called: `emit("orders.created")`, `emitMany(...)`, `send(...)`. */
    what: string,
    /** The stream the entries were added to. */
    readonly stream: string,
    /** The ids of the entries added (one for emit and send, every one for emitMany). */
    readonly ids: string[],
    /** Replicas asked for (`durability.replicas`). */
    readonly replicas: number,
    /** Replicas WAIT counted (0 when WAIT itself failed). */
    readonly confirmed: number,
    /** How long WAIT waited (`durability.timeoutMs`). */
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    const entries = ids.length === 1 ? `entry ${ids[0]}` : `${ids.length} entries (${ids[0]} .. ${ids[ids.length - 1]})`;
    const outcome =
      cause === undefined
        ? `only ${confirmed} of ${replicas} ${replicas === 1 ? 'replica' : 'replicas'} confirmed ${ids.length === 1 ? 'it' : 'them'} within ${timeoutMs} ms`
        : `WAIT for ${replicas} ${replicas === 1 ? 'replica' : 'replicas'} failed (${(cause as Error)?.message ?? String(cause)})`;
    super(
      `${what}: ${entries} added to "${stream}" on the master, but ${outcome} (option durability). ` +
        `${ids.length === 1 ? 'It' : 'They'} may be delivered, and ${ids.length === 1 ? 'is' : 'are'} not confirmed to survive a failover; retrying may add ${ids.length === 1 ? 'it' : 'them'} twice`,
      cause === undefined ? undefined : { cause },
    );
  }
}
