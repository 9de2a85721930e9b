import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { checkOptions, isObject, positiveInt, type Check, type OptionTable } from './checks.js';

/**
 * The client's `durability` option: every write (emit, emitMany, the request of send) is confirmed by
 * Redis's `WAIT numreplicas timeout` before it resolves (see client/durable-writes.ts).
 */
export interface DurabilityOptions {
  /** Replicas that must have the entry before the write resolves (WAIT's numreplicas). Required, >= 1. */
  replicas: number;
  /**
   * How long WAIT waits for them, in ms; a write the replicas have not confirmed by then rejects with
   * DurabilityError (the entry is on the master all the same). Required, >= 1: WAIT's 0 means "forever".
   */
  timeoutMs: number;
}

const DURABILITY_OPTIONS: OptionTable<DurabilityOptions> = {
  replicas: positiveInt,
  // Never 0: `WAIT n 0` blocks until the replicas answer, however long that takes.
  timeoutMs: positiveInt,
};

/** `false`, or `{ replicas, timeoutMs }` with both keys given (a durability setting is never guessed). */
export const durabilityOption: Check = (value, path) => {
  if (value === false) return;
  if (!isObject(value)) throw new InvalidOptionsError(path, 'must be false or { replicas, timeoutMs }, e.g. { replicas: 1, timeoutMs: 1000 }');
  checkOptions(DURABILITY_OPTIONS, value, path);
  if (value.replicas === undefined) {
    throw new InvalidOptionsError(`${path}.replicas`, 'is required: how many replicas must confirm each write (WAIT numreplicas), e.g. 1');
  }
  if (value.timeoutMs === undefined) {
    throw new InvalidOptionsError(`${path}.timeoutMs`, 'is required: how long to wait for the replicas, in ms (WAIT timeout), e.g. 1000');
  }
};

/** The resolved option: undefined when off. */
export function resolveDurability(value: DurabilityOptions | false | undefined): DurabilityOptions | undefined {
  return value ? { replicas: value.replicas, timeoutMs: value.timeoutMs } : undefined;
}
