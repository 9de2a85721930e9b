import { InvalidArgumentError } from 'commander';

/** Commander argument parser for counts such as --limit. */
export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

/** Events per second for a table cell: `0`, `12.5`, `3400`. */
export function formatRate(perSec: number | null): string {
  if (perSec === null) return '-';
  return perSec >= 100 || perSec === 0 ? String(Math.round(perSec)) : perSec.toFixed(1);
}
