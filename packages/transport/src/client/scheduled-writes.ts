import { randomUUID } from 'node:crypto';
import type { StreamKeys } from '../keys.js';
import { runScript } from '../redis/lua.js';
import { SCRIPTS } from '../redis/scripts/scripts.generated.js';
import type { DurableWrites } from './durable-writes.js';
import type { ProducerConnection } from './producer-connection.js';

/** When a delayed emit is due: a delay from now on Redis's clock, or a point in time (ms since the epoch). */
export type Schedule = { delayMs: number } | { at: number };

export interface ScheduledWrite {
  what: string;
  stream: string;
  keys: StreamKeys;
  schedule: Schedule;
  /** The entry's fields as XADD takes them. */
  fields: Array<string | number>;
}

/**
 * Stores a delayed emit in the stream's schedule (`schedule-2.lua`: the fields by schedule id, the id by due
 * time, in the stream's slot) and resolves with its schedule id once Redis has it (and, with durability, its
 * replicas). A consumer of the stream moves it in when due (consumer/scheduled-mover.ts).
 */
export function scheduleEntry(connection: ProducerConnection, durable: DurableWrites | undefined, write: ScheduledWrite, confirmMs: number): Promise<string> {
  const { what, stream, keys, schedule } = write;
  const id = `sched-${randomUUID()}`;
  const due = 'at' in schedule ? String(schedule.at) : `+${schedule.delayMs}`;
  const keyNames = [keys.schedule(stream), keys.scheduledEntries(stream)];
  const argv = [id, due, JSON.stringify(write.fields.map(String))];
  if (durable) {
    // EVAL, not EVALSHA: ioredis would send an unknown script again outside the pipeline its WAIT closes.
    return connection.write(what, stream, () => durable.run(what, stream, [['eval', [SCRIPTS.schedule.lua, 2, ...keyNames, ...argv]]]).then(r => r[0] as string), confirmMs, 'EVAL');
  }
  return connection.write(what, stream, redis => runScript<string>(redis, 'schedule', keyNames, argv), 0, 'EVALSHA');
}

/** Removes a delayed emit from the stream's schedule (`cancel-scheduled-2.lua`); true if it was there. */
export async function cancelScheduled(connection: ProducerConnection, target: { what: string; stream: string; keys: StreamKeys }, scheduleId: string): Promise<boolean> {
  const { what, stream, keys } = target;
  const removed = await connection.write(what, stream, redis => runScript<number>(redis, 'cancelScheduled', [keys.schedule(stream), keys.scheduledEntries(stream)], [scheduleId]), 0, 'EVALSHA');
  return removed === 1;
}
