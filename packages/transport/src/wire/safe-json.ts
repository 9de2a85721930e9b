import { DecodeError } from '../errors/decode.error.js';

/**
 * JSON.parse that refuses what a handler must not receive:
 * - an object key `__proto__`: JSON.parse keeps it as an own property, and a handler that merges the object
 *   into another (Object.assign, spread into a class, lodash.merge) gets an attacker-chosen prototype;
 * - a `constructor` key holding an object with a `prototype` key: the other path by which a deep merge
 *   reaches Object.prototype;
 * - nesting deeper than `maxDepth`.
 * Keys are compared after JSON unescaping, so `"\u005f_proto__"` is caught like `"__proto__"`.
 *
 * Hot path: JSON.parse alone for almost every text. The parsed value is walked only when the raw text could
 * hold a forbidden key (it contains `__proto__`, `prototype` or a `\u` escape: without escapes, a key is
 * spelled literally) or could be too deep (it has more than maxDepth opening brackets).
 */
export function parseJson(text: string, what: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DecodeError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  const checkKeys = mayHoldForbiddenKey(text);
  if (checkKeys || mayBeDeeperThan(text, maxDepth)) {
    const problem = inspect(value, checkKeys, maxDepth);
    if (problem) throw new DecodeError(`${what} ${problem}`);
  }
  return value;
}

function mayHoldForbiddenKey(text: string): boolean {
  if (text.includes('\\u')) return true;
  // One scan for the common case ("protocol" and "protobuf" take the two more precise ones).
  return text.includes('proto') && (text.includes('__proto__') || text.includes('prototype'));
}

/** False when the text has too few opening brackets to nest deeper than maxDepth (a cheap bound, not exact). */
function mayBeDeeperThan(text: string, maxDepth: number): boolean {
  if (text.length <= 2 * maxDepth) return false; // each level takes an opening and a closing bracket
  let opening = 0;
  for (let i = text.indexOf('{'); i !== -1 && opening <= maxDepth; i = text.indexOf('{', i + 1)) opening++;
  for (let i = text.indexOf('['); i !== -1 && opening <= maxDepth; i = text.indexOf('[', i + 1)) opening++;
  return opening > maxDepth;
}

/**
 * Walks a parsed value; returns what is wrong with it, if anything. Recursion is safe: it stops one level
 * past maxDepth, however deep the value.
 */
function inspect(value: unknown, checkKeys: boolean, maxDepth: number, depth = 1, parentKey?: string): string | undefined {
  if (depth > maxDepth) return `is nested deeper than ${maxDepth} levels (maxPayloadDepth)`;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'object' && item !== null) {
        const problem = inspect(item, checkKeys, maxDepth, depth + 1);
        if (problem) return problem;
      }
    }
    return undefined;
  }
  for (const key in value as Record<string, unknown>) {
    if (checkKeys) {
      if (key === '__proto__') return 'has a "__proto__" key';
      if (key === 'prototype' && parentKey === 'constructor') return 'has a "constructor.prototype" key';
    }
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null) {
      const problem = inspect(item, checkKeys, maxDepth, depth + 1, key);
      if (problem) return problem;
    }
  }
  return undefined;
}
