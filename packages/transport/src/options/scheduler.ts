import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkOptions, isObject, positiveInt, type Check, type OptionTable } from './checks.js';
import { definedOnly } from './defined-only.js';

/** The server's `scheduler` option: how its consumers move delayed emits (`setDelay()`) into their streams. */
export interface SchedulerOptions {
  /** Look for newly scheduled entries at least this often; entries due sooner than a poll may be this late. @default 1000 */
  pollMs?: number;
  /** Entries moved per script call (bounds how long Redis runs one). @default 1000 */
  batchSize?: number;
}

export type ResolvedScheduler = Required<SchedulerOptions>;

export const DEFAULT_SCHEDULER: ResolvedScheduler = {
  // One EVALSHA per stream per second when nothing is scheduled; entries scheduled ahead are moved at their time.
  pollMs: 1000,
  // About 5 ms of Redis time per call with small entries.
  batchSize: 1000,
};

const SCHEDULER_OPTIONS: OptionTable<SchedulerOptions> = { pollMs: positiveInt, batchSize: positiveInt };

/** `false` (this server moves no delayed emits), or `{ pollMs?, batchSize? }`. */
export const schedulerOption: Check = (value, path) => {
  if (value === false) return;
  if (!isObject(value)) throw new InvalidOptionsError(path, 'must be false or { pollMs?, batchSize? }');
  checkOptions(SCHEDULER_OPTIONS, value, path);
};

/** Undefined when off. */
export function resolveScheduler(value: SchedulerOptions | false | undefined): ResolvedScheduler | undefined {
  return value === false ? undefined : { ...DEFAULT_SCHEDULER, ...definedOnly(value) };
}
