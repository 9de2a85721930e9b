import { InvalidArgumentError } from 'commander';
import type { GroupPosition } from '@nestream/transport/admin';
import { parseDuration } from './duration.js';

const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/**
 * Where a group should start reading, as an operator types it: `start`, `end`, an entry id
 * (`1718000000000-0`), a time (`2026-12-07T09:00:00Z`) or a duration ago (`2h`: entries of the last two hours).
 * `now` is passed in so that one command resolves every duration against the same instant.
 */
export function parsePosition(text: string, now: number = Date.now()): GroupPosition {
  if (text === 'start' || text === 'end') return text;
  if (ENTRY_ID.test(text)) return text;
  if (ISO_DATE.test(text)) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new InvalidArgumentError(`"${text}" is not a date`);
    return new Date(ms);
  }
  try {
    return new Date(now - parseDuration(text));
  } catch {
    throw new InvalidArgumentError('expected start, end, an entry id (1718000000000-0), a time (2026-12-07T09:00:00Z) or a duration ago (2h, 30m)');
  }
}

/** A position as the report shows it. */
export function describePosition(position: GroupPosition): string {
  return position instanceof Date ? position.toISOString() : position;
}
