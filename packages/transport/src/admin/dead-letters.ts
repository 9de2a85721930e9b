import type { RedisClient } from '../redis/redis-client.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { parseDeadLetter, type DeadLetterEntry } from './dead-letter-entry.js';
import { findDeadLetterStream, pages } from './dead-letter-stream.js';
import { fieldsContain, pageNewestFirst, resolveBrowse, type BrowseOptions, type EntryPage } from './browse.js';
import { checkEntryId } from './entry-id.js';
import { countForPurge, purge, type PurgeCount, type PurgeOptions, type PurgeResult } from './purge.js';
import { redrive, type RedriveOptions, type RedriveResult } from './redrive.js';
import { StreamsAdminError } from './streams-admin.error.js';

export interface ListDeadLettersOptions {
  /** Only dead letters with this `dlq.reason`. @default undefined (any) */
  reason?: string;
  /** At most this many, oldest first. @default 100 */
  limit?: number;
}

export interface DeadLetterPageOptions extends BrowseOptions {
  /** Only dead letters with this `dlq.reason`. @default undefined (any) */
  reason?: string;
}

export interface DeadLetterPage extends EntryPage<DeadLetterEntry> {
  stream: string;
  deadLetterKey: string;
  /** Dead letters in the stream, of any reason. */
  total: number;
}

export interface DeadLetterList {
  stream: string;
  deadLetterKey: string;
  /** Dead letters in the stream, of any reason. */
  total: number;
  entries: DeadLetterEntry[];
  /** More dead letters match than `limit`. */
  more: boolean;
}

const DEFAULT_LIST_LIMIT = 100;
const PAGE_SIZE = 500;

/** The dead letters of source streams: `StreamsAdmin.deadLetters`. Streams are named as patterns (without `keyPrefix`). */
export class DeadLetters {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: ResolvedAdminOptions,
  ) {}

  /** Dead letters of a stream, oldest first. */
  async list(stream: string, opts: ListDeadLettersOptions = {}): Promise<DeadLetterList> {
    const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new StreamsAdminError('bad-option', `limit must be an integer >= 1, got ${limit}`);
    const target = await findDeadLetterStream(this.redis, this.options, stream);
    const list: DeadLetterList = { stream, deadLetterKey: target.deadLetterKey, total: 0, entries: [], more: false };
    if (!target.exists) return list;
    list.total = await this.redis.xlen(target.deadLetterKey);
    for await (const page of pages(this.redis, target.deadLetterKey, '+', opts.reason === undefined ? Math.min(limit + 1, PAGE_SIZE) : PAGE_SIZE)) {
      for (const [id, fields] of page) {
        const entry = parseDeadLetter(id, fields);
        if (opts.reason !== undefined && entry.reason !== opts.reason) continue;
        if (list.entries.length === limit) {
          list.more = true;
          return list;
        }
        list.entries.push(entry);
      }
    }
    return list;
  }

  /**
   * A page of dead letters, newest first, filtered by reason and by text (in the payload, error, consumer or
   * ids); each call reads at most `scanLimit` of them, so a dead-letter stream of any size pages cheaply.
   */
  async page(stream: string, opts: DeadLetterPageOptions = {}): Promise<DeadLetterPage> {
    const browse = resolveBrowse(opts);
    const target = await findDeadLetterStream(this.redis, this.options, stream);
    const base = { stream, deadLetterKey: target.deadLetterKey };
    if (!target.exists) return { ...base, total: 0, entries: [], next: null, scanned: 0 };
    const [total, page] = await Promise.all([
      this.redis.xlen(target.deadLetterKey),
      pageNewestFirst(this.redis, target.deadLetterKey, browse, (id, flat) => {
        if (browse.text !== undefined && !id.includes(browse.text) && !fieldsContain(flat, browse.text)) return null;
        const entry = parseDeadLetter(id, flat);
        return opts.reason === undefined || opts.reason === '' || entry.reason === opts.reason ? entry : null;
      }),
    ]);
    return { ...base, total, ...page };
  }

  /** One dead letter by its id in the dead-letter stream; a `not-found` StreamsAdminError when it is not there. */
  async get(stream: string, id: string): Promise<DeadLetterEntry> {
    checkEntryId(id);
    const target = await findDeadLetterStream(this.redis, this.options, stream);
    const found = target.exists ? ((await this.redis.xrange(target.deadLetterKey, id, id)) as Array<[string, string[]]>) : [];
    if (found.length === 0) throw new StreamsAdminError('not-found', `No dead letter ${id} in ${target.deadLetterKey}`);
    return parseDeadLetter(found[0][0], found[0][1]);
  }

  /** Puts dead letters back on their source stream, each atomically (see RedriveOptions). */
  redrive(stream: string, opts: RedriveOptions): Promise<RedriveResult> {
    return redrive(this.redis, this.options, stream, opts);
  }

  /** How many dead letters `purge()` with the same options would delete, and up to which id. */
  count(stream: string, opts: PurgeOptions = {}): Promise<PurgeCount> {
    return countForPurge(this.redis, this.options, stream, opts);
  }

  /** Deletes dead letters for good. */
  purge(stream: string, opts: PurgeOptions = {}): Promise<PurgeResult> {
    return purge(this.redis, this.options, stream, opts);
  }
}
