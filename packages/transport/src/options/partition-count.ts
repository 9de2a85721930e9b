import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { MAX_PARTITIONS } from '../partition-routing.js';
import type { Check } from './checks.js';

/** A partition count (a handler's `partitions`, the client's `partitions` record): an integer from 1 to MAX_PARTITIONS. */
export const partitionCount: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PARTITIONS) {
    throw new InvalidOptionsError(path, `must be an integer from 1 to ${MAX_PARTITIONS}, got ${typeof value === 'number' ? value : typeof value}`);
  }
};
