import { DEAD_LETTER_FIELDS, decode } from '@nestream/transport';
import { Redis } from 'ioredis';
import pg from 'pg';

/** One consumer group of one stream, from XINFO GROUPS. */
export interface GroupState {
  stream: string;
  group: string;
  pending: number;
  lag: number | null;
  consumers: number;
  /** Nothing pending and every entry delivered. */
  idle: boolean;
}

/** One entry of a dead-letter stream. */
export interface DeadLetter {
  stream: string;
  id: string;
  payload: Record<string, unknown> | undefined;
  sourceId: string;
  reason: string;
  attempts: number;
  error: string;
}

/**
 * Reads what the run did, where an operator would look: the services' tables in Postgres, and XINFO / XRANGE in
 * Redis. Queries take the ids of this run's users and orders, so a database used before does not count.
 */
export class Observer {
  private constructor(
    private readonly db: pg.Pool,
    readonly redis: Redis,
  ) {}

  static connect(databaseUrl: string, redisUrl: string): Observer {
    const redis = new Redis(redisUrl, { lazyConnect: false });
    redis.on('error', () => undefined); // commands fail on their own; no unhandled 'error' events
    return new Observer(new pg.Pool({ connectionString: databaseUrl, max: 2 }), redis);
  }

  async close(): Promise<void> {
    await this.db.end();
    this.redis.disconnect();
  }

  /** Orders by status. */
  async orderStates(orderIds: string[]): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) GROUP BY status',
      [orderIds],
    );
    return Object.fromEntries(rows.map(r => [r.status, r.n]));
  }

  /** When each settled order reached its final state. */
  async settledAt(orderIds: string[]): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ id: string; settled_at: Date }>(
      'SELECT id, settled_at FROM orders.orders WHERE id = ANY($1::uuid[]) AND settled_at IS NOT NULL',
      [orderIds],
    );
    return new Map(rows.map(r => [r.id, r.settled_at.getTime()]));
  }

  /** Accounts of these users: how many, and how many of them hold anything but one welcome credit. */
  async accounts(userIds: string[], welcomeCreditCents: number): Promise<{ opened: number; wrongCredit: number }> {
    const { rows } = await this.db.query<{ opened: number; wrong: number }>(
      'SELECT count(*)::int AS opened, count(*) FILTER (WHERE credit_cents <> $2)::int AS wrong FROM accounts.accounts WHERE user_id = ANY($1::uuid[])',
      [userIds, welcomeCreditCents],
    );
    return { opened: rows[0]!.opened, wrongCredit: rows[0]!.wrong };
  }

  /** Events written to an outbox and not yet published. */
  async outboxBacklog(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT (SELECT count(*) FROM users.outbox) + (SELECT count(*) FROM orders.outbox) AS n');
    return Number(rows[0]!.n);
  }

  async stock(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ sku: string; available: number }>('SELECT sku, available FROM inventory.stock');
    return new Map(rows.map(r => [r.sku, r.available]));
  }

  /** The inventory's decisions on these orders: stock taken per SKU, and how many were decided on a redelivery. */
  async reservations(orderIds: string[]): Promise<{ decided: number; reservedBySku: Map<string, number>; onRedelivery: number }> {
    const { rows } = await this.db.query<{ sku: string; reserved: number; decided: number; redelivered: number }>(
      `SELECT sku, coalesce(sum(quantity) FILTER (WHERE outcome = 'reserved'), 0)::int AS reserved,
              count(*)::int AS decided, count(*) FILTER (WHERE attempt > 1)::int AS redelivered
         FROM inventory.reservations WHERE order_id = ANY($1::uuid[]) GROUP BY sku`,
      [orderIds],
    );
    return {
      decided: rows.reduce((n, r) => n + r.decided, 0),
      reservedBySku: new Map(rows.map(r => [r.sku, r.reserved])),
      onRedelivery: rows.reduce((n, r) => n + r.redelivered, 0),
    };
  }

  /** Mails the mailer recorded as sent for these keys, and how many of them on a redelivery. */
  async sentMails(keys: string[]): Promise<{ sent: number; onRedelivery: number }> {
    const { rows } = await this.db.query<{ sent: number; redelivered: number }>(
      'SELECT count(*)::int AS sent, count(*) FILTER (WHERE attempt > 1)::int AS redelivered FROM mailer.sent_mails WHERE key = ANY($1::text[])',
      [keys],
    );
    return { sent: rows[0]!.sent, onRedelivery: rows[0]!.redelivered };
  }

  /** Every stream key in Redis (SCAN ... TYPE stream). */
  async streams(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'COUNT', 1000, 'TYPE', 'stream');
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys.sort();
  }

  /** XINFO GROUPS of every stream. */
  async groups(): Promise<GroupState[]> {
    const rows: GroupState[] = [];
    for (const stream of await this.streams()) {
      const info = pairs((await this.redis.xinfo('STREAM', stream)) as unknown[]);
      for (const raw of (await this.redis.xinfo('GROUPS', stream)) as unknown[][]) {
        const g = pairs(raw);
        const lag = g.lag === null || g.lag === undefined ? null : Number(g.lag);
        // lag is null when Redis cannot compute it (after deletions): compare the ids then.
        const caughtUp = lag === 0 || (lag === null && g['last-delivered-id'] === info['last-generated-id']);
        const pending = Number(g.pending);
        rows.push({ stream, group: String(g.name), pending, lag, consumers: Number(g.consumers), idle: pending === 0 && caughtUp });
      }
    }
    return rows;
  }

  /** Names of the consumers of a group (XINFO CONSUMERS). */
  async consumers(stream: string, group: string): Promise<Array<{ name: string; pending: number }>> {
    const rows = (await this.redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
    return rows.map(raw => {
      const c = pairs(raw);
      return { name: String(c.name), pending: Number(c.pending) };
    });
  }

  /** Entries of every `*:dlq` stream added since `sinceMs`. */
  async deadLetters(sinceMs: number): Promise<DeadLetter[]> {
    const f = DEAD_LETTER_FIELDS;
    const letters: DeadLetter[] = [];
    for (const stream of (await this.streams()).filter(s => s.endsWith(':dlq'))) {
      for (const [id, fields] of await this.redis.xrange(stream, `${sinceMs}-0`, '+')) {
        const all = pairs(fields);
        let payload: Record<string, unknown> | undefined;
        try {
          payload = decode(fields).data as Record<string, unknown>;
        } catch {
          payload = undefined;
        }
        letters.push({
          stream,
          id,
          payload,
          sourceId: String(all[f.id]),
          reason: String(all[f.reason]),
          attempts: Number(all[f.attempts]),
          error: `${all[f.errorName]}: ${all[f.errorMessage]}`,
        });
      }
    }
    return letters;
  }

  /** Entries in every stream that is not a dead-letter stream. */
  async eventsWritten(): Promise<number> {
    let total = 0;
    for (const stream of (await this.streams()).filter(s => !s.endsWith(':dlq'))) total += await this.redis.xlen(stream);
    return total;
  }
}

function pairs(flat: unknown[]): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) obj[String(flat[i])] = flat[i + 1];
  return obj;
}
