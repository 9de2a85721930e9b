import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** `7d`, `1h30m`, `90s`, `500ms` as milliseconds. A bare number is refused: minutes or seconds? */
export function parseDuration(text: string): number {
  let total = 0;
  PART.lastIndex = 0;
  let matched = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched = PART.lastIndex;
  }
  if (text.length === 0 || matched !== text.length) {
    throw new InvalidArgumentError(`expected a duration like 30s, 15m, 1h30m, 7d (units ms, s, m, h, d, w)`);
  }
  return Math.round(total);
}

/** A short human duration: `850ms`, `4.2s`, `3m12s`, `5h03m`, `2d04h`, `7d`: two units at most. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return twoUnits(Math.floor(s / 60), 'm', s % 60, 's');
  if (s < 86_400) return twoUnits(Math.floor(s / 3600), 'h', Math.floor(s / 60) % 60, 'm');
  return twoUnits(Math.floor(s / 86_400), 'd', Math.floor(s / 3600) % 24, 'h');
}

function twoUnits(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${String(small).padStart(2, '0')}${smallUnit}`;
}
