import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { closestName } from './closest-name.js';

/**
 * Option validation as tables: each options object has a table naming every key it accepts and the check of
 * its value, so adding an option is one line, and any other key is an error naming it (with the closest
 * known key) instead of being ignored.
 */

/** Throws InvalidOptionsError (naming `path`) when `value` is not acceptable. Never prints secrets. */
export type Check = (value: unknown, path: string) => void;

/** Every key of `T` (optional ones included) with the check of its value. */
export type OptionTable<T> = { readonly [K in keyof Required<T>]: Check };

/** Hints for keys that are not options here but mean something elsewhere (Nest's Redis transport, ioredis). */
export type KeyHints = Readonly<Record<string, string>>;

export const positiveInt: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionsError(path, `must be an integer >= 1, got ${show(value)}`);
  }
};

export const nonNegative: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(path, `must be a finite number >= 0, got ${show(value)}`);
  }
};

export const nonNegativeInt: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionsError(path, `must be an integer >= 0, got ${show(value)}`);
  }
};

export const string: Check = (value, path) => {
  if (typeof value !== 'string') throw new InvalidOptionsError(path, `must be a string, got ${show(value)}`);
};

export const nonEmptyString: Check = (value, path) => {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionsError(path, `must be a non-empty string, got ${show(value)}`);
  }
};

export const boolean: Check = (value, path) => {
  if (typeof value !== 'boolean') throw new InvalidOptionsError(path, `must be true or false, got ${show(value)}`);
};

export const symbol: Check = (value, path) => {
  if (typeof value !== 'symbol') throw new InvalidOptionsError(path, `must be a symbol, got ${show(value)}`);
};

export const func: Check = (value, path) => {
  if (typeof value !== 'function') throw new InvalidOptionsError(path, `must be a function, got ${show(value)}`);
};

/** An object with the named method (a serializer, a prom-client Registry); `what` names it in the error. */
export function withMethod(method: string, what = `an object with a ${method}() method`): Check {
  return (value, path) => {
    if (typeof (value as Record<string, unknown> | null)?.[method] !== 'function') throw new InvalidOptionsError(path, `must be ${what}`);
  };
}

/** A secret (password): checked for its type only, its value never shown. */
export const secret: Check = (value, path) => {
  if (typeof value !== 'string') throw new InvalidOptionsError(path, `must be a string, got a ${typeof value}`);
};

export function oneOf(...allowed: readonly unknown[]): Check {
  return (value, path) => {
    if (!allowed.includes(value)) {
      throw new InvalidOptionsError(path, `must be ${allowed.map(a => JSON.stringify(a)).join(' or ')}, got ${show(value)}`);
    }
  };
}

/** `false`, or a value passing `check`. */
export function falseOr(check: Check): Check {
  return (value, path) => {
    if (value !== false) check(value, path);
  };
}

/** A record whose every value passes `check` (keys are free: e.g. pattern -> maxLen). */
export function recordOf(check: Check): Check {
  return (value, path) => {
    if (!isObject(value)) throw new InvalidOptionsError(path, `must be an object, got ${show(value)}`);
    for (const [key, v] of Object.entries(value)) check(v, `${path}.${key}`);
  };
}

/** A nested options object checked against its own table. */
export function nested<T>(table: OptionTable<T>): Check {
  return (value, path) => checkOptions(table, value, path);
}

/**
 * Checks every key of `value` against `table`: an unknown key throws, naming it, with the hint for it or the
 * closest known key. Undefined values count as absent. `path` is the options object's own name ('' at the top).
 */
export function checkOptions<T>(table: OptionTable<T>, value: unknown, path: string, hints: KeyHints = {}): void {
  if (!isObject(value)) throw new InvalidOptionsError(path || 'options', `must be an object, got ${show(value)}`);
  const checks = table as Readonly<Record<string, Check>>;
  for (const [key, v] of Object.entries(value)) {
    const where = path ? `${path}.${key}` : key;
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined;
    if (!check) throw new InvalidOptionsError(where, unknownKeyProblem(key, Object.keys(checks), hints));
    if (v !== undefined) check(v, where);
  }
}

function unknownKeyProblem(key: string, known: string[], hints: KeyHints): string {
  if (Object.hasOwn(hints, key)) return `not an option of this transport: ${hints[key]}`;
  const closest = closestName(key, known);
  return closest ? `unknown option; did you mean "${closest}"?` : `unknown option; the options here are ${known.join(', ')}`;
}

/** An options object: any non-array object (a config class instance too); its own enumerable keys count. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value for an error message: short, and never a whole object (which could hold a password). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}
