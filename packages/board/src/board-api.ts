import { MAX_PAGE_SIZE, StreamsAdmin, StreamsAdminError, type DeadLetterEntry, type ScheduledList, type StreamsStatus } from '@nestream/transport/admin';
import type { ResolvedBoardOptions } from './board-options.js';
import { BoardRequestError } from './board-request.error.js';
import { buildOverview, type Overview } from './overview.js';
import { RateHistory } from './rate-history.js';
import { RedriveJobs, summarise, type RedriveJob, type RedriveSummary } from './redrive-jobs.js';

/** Dead letters a redrive of a selection may name at once (a page is at most this many). */
export const MAX_REDRIVE_IDS = 500;

/** Delayed emits a cancel of a selection may name at once (a page is at most this many). */
export const MAX_CANCEL_IDS = 500;

/**
 * How deep the scheduled list pages: each page reads the soonest `offset + count` ids of every partition, so
 * deeper pages cost more. Past it, cancel or let the soonest ones be moved, or use `StreamsAdmin.scheduled()`.
 */
export const MAX_SCHEDULED_OFFSET = 10_000;

/** A stream with what its schedule holds: the figures of the stream page. */
export type BoardStream = StreamsStatus['streams'][number] & { scheduled: number | null };

/** What cancelling delayed emits did: which were waiting (cancelled), which were not any more. */
export interface CancelSummary {
  stream: string;
  cancelled: string[];
  /** Not in the schedule: entered the stream already, cancelled before, or never scheduled. */
  notWaiting: string[];
}

/**
 * A page waiting on a Redis that is down gets an answer within seconds (the connection keeps reconnecting
 * behind it), not after ioredis's 20 retries per command.
 */
const BOARD_REDIS_OPTIONS = { maxRetriesPerRequest: 1, connectTimeout: 5000, commandTimeout: 10_000 };

/**
 * What the board's endpoints do, over one StreamsAdmin: every read bounded (pages, COUNT), the overview
 * shared between viewers for `overviewCacheMs`. Knows nothing of HTTP.
 */
export class BoardApi {
  readonly admin: StreamsAdmin;
  private readonly rates = new RateHistory();
  private readonly jobs = new RedriveJobs();
  private overviewCache: { at: number; value: Promise<Overview> } | undefined;

  constructor(private readonly options: ResolvedBoardOptions) {
    this.admin = new StreamsAdmin({ ...options.admin, redisOptions: { ...BOARD_REDIS_OPTIONS, ...options.admin.redisOptions } });
  }

  /** Every stream, its groups and dead letters; partitions of a pattern folded into one row. */
  overview(): Promise<Overview> {
    const now = Date.now();
    if (this.overviewCache && now - this.overviewCache.at < this.options.overviewCacheMs) return this.overviewCache.value;
    const value = this.admin.status().then(async status => {
      const scheduled = await this.admin.scheduledCounts(status.streams.map(s => s.name));
      return buildOverview(status, this.rates.add(status), scheduled);
    });
    this.overviewCache = { at: now, value };
    // A failed reading is not shared: the next viewer tries again.
    value.catch(() => (this.overviewCache = undefined));
    return value;
  }

  /** One stream's status (groups with their consumers) and how many delayed emits wait for it. */
  async stream(name: string): Promise<BoardStream> {
    const [stream] = (await this.admin.status([name])).streams;
    if (!stream) throw new BoardRequestError(404, `Stream "${name}" does not exist`);
    const scheduled = (await this.admin.scheduledCounts([name])).get(name);
    return { ...stream, scheduled: scheduled === undefined ? 0 : scheduled };
  }

  entries(name: string, query: { before?: string; count?: number; text?: string }) {
    return this.admin.entries(name, query);
  }

  async group(name: string, group: string, query: { after?: string; count?: number }) {
    const stream = await this.stream(name);
    const status = stream.groups.find(g => g.name === group);
    if (!status) throw new BoardRequestError(404, `Stream "${name}" has no consumer group "${group}"`);
    const pending = await this.admin.pending(name, group, query);
    return { stream: name, group: status, pending };
  }

  deadLetters(name: string, query: { before?: string; count?: number; text?: string; reason?: string }) {
    return this.admin.deadLetters.page(name, query);
  }

  deadLetter(name: string, id: string): Promise<DeadLetterEntry> {
    return this.admin.deadLetters.get(name, id);
  }

  /**
   * Redrives the named dead letters (at once), or all of them of one reason (in the background: the answer is
   * the job, whose progress `redriveJob` reports), with the CLI's atomic move.
   */
  async redrive(body: { stream: string; ids?: string[]; all?: boolean; reason?: string }): Promise<RedriveSummary | { job: RedriveJob }> {
    const reason = body.reason || undefined;
    if (body.all === true) {
      // Checked before the job starts, so that an unknown stream or one nobody reads is this request's answer.
      const { groups } = await this.stream(body.stream);
      if (groups.length === 0) throw new BoardRequestError(409, `Stream "${body.stream}" has no consumer group: nobody would read the redriven entries. Start its consumers first`);
      return { job: this.jobs.start(body.stream, reason, onProgress => this.admin.deadLetters.redrive(body.stream, { all: true, reason, onProgress })) };
    }
    if (!Array.isArray(body.ids) || body.ids.length === 0) throw new BoardRequestError(400, 'Redrive needs "ids" (a non-empty list) or "all": true');
    if (body.ids.length > MAX_REDRIVE_IDS) throw new BoardRequestError(400, `Redrive at most ${MAX_REDRIVE_IDS} ids at once, got ${body.ids.length}`);
    if (!body.ids.every(id => typeof id === 'string')) throw new BoardRequestError(400, '"ids" must be strings');
    return summarise(await this.admin.deadLetters.redrive(body.stream, { ids: body.ids, reason }));
  }

  redriveJob(id: string): RedriveJob {
    const job = this.jobs.get(id);
    if (!job) throw new BoardRequestError(404, `No redrive job ${id} (finished jobs are kept for a while only)`);
    return job;
  }

  /** How many dead letters a purge would delete, and the id it stops at (what the operator confirms). */
  purgeCount(body: { stream: string; reason?: string }) {
    return this.admin.deadLetters.count(body.stream, { reason: body.reason || undefined });
  }

  /** Deletes dead letters up to the confirmed id; `confirm` must be the stream's name, typed by the operator. */
  purge(body: { stream: string; reason?: string; upTo?: string; confirm?: string }) {
    if (body.confirm !== body.stream) throw new BoardRequestError(400, `Type the stream's name ("${body.stream}") to confirm the purge`);
    if (typeof body.upTo !== 'string') throw new BoardRequestError(400, 'Purge needs "upTo": the id the count stopped at (POST purge/count first)');
    return this.admin.deadLetters.purge(body.stream, { reason: body.reason || undefined, upTo: body.upTo });
  }

  /**
   * A page of a stream's delayed emits (every partition of a partitioned pattern), due soonest first. A stream
   * that does not exist yet may have some (a producer scheduled before any consumer made it).
   */
  async scheduled(name: string, query: { offset?: number; count?: number }): Promise<ScheduledList & { offset: number; now: number }> {
    const offset = query.offset ?? 0;
    const count = query.count ?? 50;
    if (count < 1 || count > MAX_PAGE_SIZE) throw new BoardRequestError(400, `count must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    if (offset > MAX_SCHEDULED_OFFSET) throw new BoardRequestError(400, `offset must be at most ${MAX_SCHEDULED_OFFSET}: page from the soonest, or use StreamsAdmin.scheduled() / nestream scheduled list`);
    try {
      // `now` is the board's clock, for "in 5 min" / "overdue by 2 s" (Redis's TIME would need one more ACL permission).
      return { ...(await this.admin.scheduled(name, { limit: count, offset })), offset, now: Date.now() };
    } catch (err) {
      // The key helpers refuse a name that cannot have a schedule ("}" without a hash tag): bad input, not a failure.
      if (err instanceof TypeError) throw new BoardRequestError(400, err.message);
      throw err;
    }
  }

  /**
   * Cancels the named delayed emits, one by one, as `nestream scheduled cancel` does; says which were not
   * waiting any more (a cancel that finds nothing is reported, never a silent success).
   */
  async cancelScheduled(body: { stream: string; ids?: unknown }): Promise<CancelSummary> {
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0) throw new BoardRequestError(400, 'Cancel needs "ids": a non-empty list of schedule ids');
    if (ids.length > MAX_CANCEL_IDS) throw new BoardRequestError(400, `Cancel at most ${MAX_CANCEL_IDS} ids at once, got ${ids.length}`);
    if (!ids.every(id => typeof id === 'string' && id !== '')) throw new BoardRequestError(400, '"ids" must be non-empty strings');
    const summary: CancelSummary = { stream: body.stream, cancelled: [], notWaiting: [] };
    for (const id of new Set(ids as string[])) {
      if (await this.admin.cancelScheduled(body.stream, id)) summary.cancelled.push(id);
      else summary.notWaiting.push(id);
    }
    return summary;
  }

  /** Removes a group's consumers idle at least `idleMs` with nothing pending (never one with pending entries). */
  prune(body: { stream: string; group: string; idleMs: number }) {
    if (typeof body.group !== 'string' || body.group === '') throw new BoardRequestError(400, 'Prune needs "group"');
    return this.admin.pruneConsumers(body.stream, body.group, { idleMs: body.idleMs });
  }

  close(): Promise<void> {
    return this.admin.close();
  }
}

export { StreamsAdminError };
