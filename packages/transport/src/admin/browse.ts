import type { RedisClient } from '../redis/redis-client.js';
import { DecodeError } from '../errors/decode.error.js';
import { decode, type DecodedMessage } from '../wire/codec.js';
import { checkEntryId } from './entry-id.js';
import { StreamsAdminError } from './streams-admin.error.js';

/** Which page of a stream to read, newest first: what a UI pages through. */
export interface BrowseOptions {
  /** Only entries older than this id (the `next` of the previous page). @default undefined (from the newest) */
  before?: string;
  /** Entries per page. @default 50, at most 500 */
  count?: number;
  /** Only entries whose field values contain this text (case-insensitive). @default undefined (all) */
  text?: string;
  /**
   * Entries read at most for one page when filtering: a filter that matches nothing must not read a
   * million-entry stream in one call. Never less than `count`. @default 2000
   */
  scanLimit?: number;
}

/** A page of entries, newest first. */
export interface EntryPage<T> {
  entries: T[];
  /** Pass as `before` for the next (older) page; null when the stream holds nothing older. */
  next: string | null;
  /** Entries read from Redis for this page (more than `entries` when filtered). */
  scanned: number;
}

/** An entry of a stream, decoded with the wire codec when it can be. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
  /** Null when the entry does not decode (`decodeError` says why). */
  message: DecodedMessage | null;
  decodeError: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
const DEFAULT_SCAN_LIMIT = 2000;
const MAX_SCAN_LIMIT = 10_000;

export interface ResolvedBrowse {
  before: string | undefined;
  count: number;
  text: string | undefined;
  scanLimit: number;
}

export function resolveBrowse(opts: BrowseOptions): ResolvedBrowse {
  const count = opts.count ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PAGE_SIZE) {
    throw new StreamsAdminError('bad-option', `count must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${count}`);
  }
  const scanLimit = opts.scanLimit ?? DEFAULT_SCAN_LIMIT;
  if (!Number.isInteger(scanLimit) || scanLimit < 1 || scanLimit > MAX_SCAN_LIMIT) {
    throw new StreamsAdminError('bad-option', `scanLimit must be an integer from 1 to ${MAX_SCAN_LIMIT}, got ${scanLimit}`);
  }
  if (opts.before !== undefined) checkEntryId(opts.before);
  const text = opts.text?.trim() ? opts.text.trim().toLowerCase() : undefined;
  return { before: opts.before, count, text, scanLimit: Math.max(scanLimit, count) };
}

/**
 * Reads a stream newest first with XREVRANGE ... COUNT, keeping the entries `keep` maps to a value, until a
 * page is full or `scanLimit` entries were read. Every call is bounded, whatever the stream's size.
 */
export async function pageNewestFirst<T>(
  redis: RedisClient,
  key: string,
  opts: ResolvedBrowse,
  keep: (id: string, flat: string[]) => T | null,
): Promise<EntryPage<T>> {
  const page: EntryPage<T> = { entries: [], next: null, scanned: 0 };
  let end = opts.before !== undefined ? `(${opts.before}` : '+';
  // Unfiltered, one read of count + 1 tells whether older entries exist.
  const batch = opts.text === undefined ? opts.count + 1 : Math.min(500, opts.scanLimit);
  for (;;) {
    const rows = (await redis.xrevrange(key, end, '-', 'COUNT', batch)) as Array<[string, string[]]>;
    for (const [id, flat] of rows) {
      if (page.entries.length === opts.count || page.scanned === opts.scanLimit) {
        // Something older is there: the next page starts after the last entry looked at.
        return page;
      }
      page.scanned++;
      page.next = id;
      const value = keep(id, flat);
      if (value !== null) page.entries.push(value);
    }
    if (rows.length < batch) {
      page.next = null;
      return page;
    }
    end = `(${rows[rows.length - 1][0]}`;
  }
}

/** Whether any field value contains `text` (already lower-cased). */
export function fieldsContain(flat: string[], text: string): boolean {
  for (let i = 1; i < flat.length; i += 2) if (flat[i].toLowerCase().includes(text)) return true;
  return false;
}

export function toStreamEntry(id: string, flat: string[]): StreamEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  try {
    return { id, fields, message: decode(flat), decodeError: null };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { id, fields, message: null, decodeError: err.message };
  }
}
