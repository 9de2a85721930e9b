import { randomUUID } from 'node:crypto';
import type { RedriveProgress, RedriveResult } from '@nestream/transport/admin';
import { describeError } from './http/describe-error.js';

/** A redrive of a whole dead-letter stream, running on the server while the page shows its progress. */
export interface RedriveJob {
  id: string;
  stream: string;
  reason: string | null;
  state: 'running' | 'done' | 'failed';
  progress: RedriveProgress;
  result: RedriveSummary | null;
  error: string | null;
}

/** A redrive's outcome as counts (a run of 100,000 does not list its ids). */
export interface RedriveSummary {
  stream: string;
  moved: number;
  notFound: number;
  skipped: number;
  truncated: number;
  groups: string[];
}

/** Finished jobs kept for their pages to read. */
const KEPT = 20;

export function summarise(result: RedriveResult): RedriveSummary {
  return {
    stream: result.stream,
    moved: result.moved.length,
    notFound: result.notFound.length,
    skipped: result.skipped,
    truncated: result.truncated.length,
    groups: result.groups,
  };
}

/**
 * Runs "redrive all" in the background (a large dead-letter stream takes longer than a request should) and
 * reports its progress. One run per stream at a time: a second click gets the running one.
 */
export class RedriveJobs {
  private readonly jobs = new Map<string, RedriveJob>();

  start(stream: string, reason: string | undefined, run: (onProgress: (p: RedriveProgress) => void) => Promise<RedriveResult>): RedriveJob {
    const running = [...this.jobs.values()].find(j => j.stream === stream && j.state === 'running');
    if (running) return running;
    const job: RedriveJob = { id: randomUUID(), stream, reason: reason ?? null, state: 'running', progress: { examined: 0, total: 0, moved: 0 }, result: null, error: null };
    this.jobs.set(job.id, job);
    run(progress => (job.progress = progress)).then(
      result => {
        job.result = summarise(result);
        job.state = 'done';
      },
      err => {
        job.error = describeError(err)[1];
        job.state = 'failed';
      },
    ).finally(() => this.forgetOld());
    return job;
  }

  get(id: string): RedriveJob | undefined {
    return this.jobs.get(id);
  }

  private forgetOld(): void {
    const finished = [...this.jobs.values()].filter(j => j.state !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - KEPT))) this.jobs.delete(job.id);
  }
}
