import { StreamsAdminError } from './streams-admin.error.js';

/** Stream entry ids (`<ms>-<seq>`): checking what an operator typed, and the arithmetic XRANGE/XTRIM need. */
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

/** Throws a `bad-id` StreamsAdminError unless `id` is a full entry id. */
export function checkEntryId(id: string): string {
  if (!ENTRY_ID.test(id)) throw new StreamsAdminError('bad-id', `Bad entry id "${id}": expected <ms>-<seq>, e.g. 1700000000000-0`);
  return id;
}

/** The millisecond part of an id: Redis's clock when the entry was added. */
export function entryTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** The smallest id after `id` (XTRIM MINID keeps ids >= its argument). Sequence numbers can exceed 2^53. */
export function nextEntryId(id: string): string {
  const dash = id.indexOf('-');
  return `${id.slice(0, dash)}-${BigInt(id.slice(dash + 1)) + 1n}`;
}

/** Orders two ids as Redis does. */
export function compareEntryIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
