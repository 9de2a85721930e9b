import type { RedisClient } from '../redis/redis-client.js';
import { DEAD_LETTER_FIELDS } from '../consumer/dead-letter.js';
import { runScript, scriptPermissionError } from '../redis/lua.js';
import { findDeadLetterStream, newestId, pages, type DeadLetterStream } from './dead-letter-stream.js';
import type { ResolvedAdminOptions } from './admin-options.js';
import { checkEntryId } from './entry-id.js';
import { readGroups } from './stream-info.js';
import { StreamsAdminError } from './streams-admin.error.js';

export interface RedriveOptions {
  /** These dead letters (ids in the dead-letter stream). Either `ids` or `all`. */
  ids?: string[];
  /** Every dead letter of the stream there is when the redrive starts (later ones are left for the next run). */
  all?: boolean;
  /** Only dead letters with this `dlq.reason`. @default undefined (any) */
  reason?: string;
  /** Report what would be redriven, change nothing. @default false */
  dryRun?: boolean;
  /** Dead letters moved per script call (each call is atomic). @default 100 */
  chunkSize?: number;
  /** Redrive even when the source stream has no consumer group (nobody would read the entries). @default false */
  force?: boolean;
  /** Called after each chunk. */
  onProgress?: (progress: RedriveProgress) => void;
}

export interface RedriveProgress {
  /** Dead letters looked at so far, and in all (for `all`: the stream's length at the start). */
  examined: number;
  total: number;
  moved: number;
}

/** One dead letter put back (or, in a dry run, that would be). */
export interface RedrivenEntry {
  deadLetterId: string;
  /** The new entry's id in the source stream; null in a dry run. */
  id: string | null;
}

export interface RedriveResult {
  stream: string;
  key: string;
  deadLetterKey: string;
  dryRun: boolean;
  moved: RedrivenEntry[];
  /** Requested ids not in the dead-letter stream (already redriven, or purged). */
  notFound: string[];
  /** Dead letters left alone: another `dlq.reason` than asked for, or from another source stream. */
  skipped: number;
  /**
   * Dead letters of oversized entries (larger than the consumer's maxPayloadBytes), left alone: they kept only
   * a prefix of their long values (`dlq.<field>.truncated`), and putting them back would publish a cut payload.
   */
  truncated: string[];
  /**
   * Dead letters of entries with more fields than one XADD from a Lua script can take (about 3,500), left
   * alone: the redrive script could not put them back whole. `nestream dlq get` shows them (the fields past
   * the first 1,000 in `dlq.fields.rest`); re-add them from a client if they are wanted.
   */
  tooWide: string[];
  /** The source stream's consumer groups: each of them gets the redriven entries. */
  groups: string[];
}

const DEFAULT_CHUNK_SIZE = 100;
// The script returns 0 for an id no longer in the dead-letter stream, -1 and -2 for one it left alone, -3
// for a truncated one, -4 for one with too many fields.
const NOT_FOUND = 0;
const TRUNCATED = -3;
const TOO_WIDE = -4;
// Values the redrive script's XADD may take (dlq-redrive-2.lua's REDRIVE_VALUES_MAX): the key, the id, the
// entry's fields, redrive.count and redrive.from.
const REDRIVE_VALUES_MAX = 7000;

/**
 * Puts dead letters back on their source stream with their original fields, a new id, and
 * `redrive.count` / `redrive.from`. Each chunk is one Lua script call that re-adds and deletes together,
 * so an interrupted redrive leaves every entry in exactly one of the two streams; running it again moves
 * the rest. On Redis Cluster the two keys must share a slot (hash tags: `{orders}.created`).
 */
export async function redrive(redis: RedisClient, options: ResolvedAdminOptions, name: string, opts: RedriveOptions): Promise<RedriveResult> {
  if (!opts.all === !opts.ids) throw new StreamsAdminError('bad-option', 'Redrive needs either ids or all');
  const ids = opts.ids ? [...new Set(opts.ids.map(checkEntryId))] : [];
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new StreamsAdminError('bad-option', `chunkSize must be an integer >= 1, got ${chunkSize}`);
  const target = await findDeadLetterStream(redis, options, name);
  const groups = target.sourceExists ? (await readGroups(redis, target.key)).map(g => g.name) : [];
  if (groups.length === 0 && !opts.force && !opts.dryRun) {
    throw new StreamsAdminError(
      'no-group',
      `Stream "${name}" has no consumer group: nobody would read the redriven entries (a group created later with startId '$' skips them). Start its consumers first, or force it`,
    );
  }
  const result: RedriveResult = { stream: name, key: target.key, deadLetterKey: target.deadLetterKey, dryRun: !!opts.dryRun, moved: [], notFound: [], skipped: 0, truncated: [], tooWide: [], groups };
  if (opts.all) await redriveAll(redis, target, opts, chunkSize, result);
  else await redriveIds(redis, target, ids, opts, chunkSize, result);
  return result;
}

async function redriveAll(redis: RedisClient, target: DeadLetterStream, opts: RedriveOptions, chunkSize: number, result: RedriveResult): Promise<void> {
  if (!target.exists) return;
  // Only up to the newest dead letter now: an entry redriven here that fails again comes back with a later
  // id, and must not be redriven again by this same run.
  const end = await newestId(redis, target.deadLetterKey);
  if (end === null) return;
  const total = await redis.xlen(target.deadLetterKey);
  let examined = 0;
  for await (const page of pages(redis, target.deadLetterKey, end, chunkSize)) {
    const wanted = page.filter(([id, fields]) => {
      const keep = matches(fields, target.key, opts.reason);
      if (!keep) result.skipped++;
      else if (opts.dryRun && isTruncated(fields)) {
        result.truncated.push(id);
        return false;
      } else if (opts.dryRun && isTooWide(fields)) {
        result.tooWide.push(id);
        return false;
      }
      return keep;
    }).map(([id]) => id);
    if (opts.dryRun) {
      for (const id of wanted) result.moved.push({ deadLetterId: id, id: null });
    } else if (wanted.length > 0) {
      await moveChunk(redis, target, wanted, opts.reason, result);
    }
    examined += page.length;
    opts.onProgress?.({ examined, total, moved: result.moved.length });
  }
}

async function redriveIds(redis: RedisClient, target: DeadLetterStream, ids: string[], opts: RedriveOptions, chunkSize: number, result: RedriveResult): Promise<void> {
  for (let i = 0; i < ids.length; i += chunkSize) {
    const chunk = ids.slice(i, i + chunkSize);
    if (opts.dryRun) {
      const pipeline = redis.pipeline();
      for (const id of chunk) pipeline.xrange(target.deadLetterKey, id, id);
      const rows = (await pipeline.exec()) ?? [];
      chunk.forEach((id, j) => {
        const [err, found] = rows[j] as [Error | null, Array<[string, string[]]>];
        if (err) throw err;
        if (found.length === 0) result.notFound.push(id);
        else if (!matches(found[0][1], target.key, opts.reason)) result.skipped++;
        else if (isTruncated(found[0][1])) result.truncated.push(id);
        else if (isTooWide(found[0][1])) result.tooWide.push(id);
        else result.moved.push({ deadLetterId: id, id: null });
      });
    } else {
      await moveChunk(redis, target, chunk, opts.reason, result);
    }
    opts.onProgress?.({ examined: Math.min(i + chunkSize, ids.length), total: ids.length, moved: result.moved.length });
  }
}

async function moveChunk(redis: RedisClient, target: DeadLetterStream, ids: string[], reason: string | undefined, result: RedriveResult): Promise<void> {
  const outcomes = await runScript<Array<string | number>>(redis, 'dlqRedrive', [target.deadLetterKey, target.key], [reason ?? '', ...ids])
    .catch(err => Promise.reject(scriptPermissionError(err)));
  outcomes.forEach((outcome, i) => {
    if (typeof outcome === 'string') result.moved.push({ deadLetterId: ids[i], id: outcome });
    else if (outcome === NOT_FOUND) result.notFound.push(ids[i]);
    else if (outcome === TRUNCATED) result.truncated.push(ids[i]);
    else if (outcome === TOO_WIDE) result.tooWide.push(ids[i]);
    else result.skipped++;
  });
}

function matches(flat: string[], sourceKey: string, reason: string | undefined): boolean {
  let stream: string | undefined;
  let why: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] === DEAD_LETTER_FIELDS.stream) stream = flat[i + 1];
    else if (flat[i] === DEAD_LETTER_FIELDS.reason) why = flat[i + 1];
  }
  return stream === sourceKey && (reason === undefined || why === reason);
}

/** A dead letter of an oversized entry: some value kept only as a prefix (`dlq.<field>.truncated`). */
function isTruncated(flat: string[]): boolean {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i].startsWith('dlq.') && flat[i].endsWith('.truncated')) return true;
  }
  return false;
}

/** A dead letter whose entry has more fields than the redrive script's one XADD can take. */
function isTooWide(flat: string[]): boolean {
  let values = 6; // the key, the id, redrive.count, redrive.from
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    if (name === DEAD_LETTER_FIELDS.restFieldCount) values += 2 * (Number(flat[i + 1]) || 0);
    else if (!name.startsWith('dlq.') && name !== 'redrive.from' && name !== 'redrive.count') values += 2;
  }
  return values > REDRIVE_VALUES_MAX;
}
