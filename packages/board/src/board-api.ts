import { StreamsAdmin, StreamsAdminError, type DeadLetterEntry, type StreamsStatus } from '@nestream/transport/admin';
import type { ResolvedBoardOptions } from './board-options.js';
import { BoardRequestError } from './board-request.error.js';
import { buildOverview, type Overview } from './overview.js';
import { RateHistory } from './rate-history.js';
import { RedriveJobs, summarise, type RedriveJob, type RedriveSummary } from './redrive-jobs.js';

/** Dead letters a redrive of a selection may name at once (a page is at most this many). */
export const MAX_REDRIVE_IDS = 500;

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
    const value = this.admin.status().then(status => buildOverview(status, this.rates.add(status)));
    this.overviewCache = { at: now, value };
    // A failed reading is not shared: the next viewer tries again.
    value.catch(() => (this.overviewCache = undefined));
    return value;
  }

  /** One stream's status (groups with their consumers). */
  async stream(name: string): Promise<StreamsStatus['streams'][number]> {
    const [stream] = (await this.admin.status([name])).streams;
    if (!stream) throw new BoardRequestError(404, `Stream "${name}" does not exist`);
    return stream;
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
