import { formatDuration, parseDuration } from '../src/format/duration.js';
import { formatRate, parsePositiveInt } from '../src/format/numbers.js';
import { isoSeconds, oneLine, prettyData } from '../src/format/preview.js';
import { renderTable } from '../src/format/table.js';

describe('parseDuration', () => {
  it('should read units and combinations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('0s')).toBe(0);
  });

  it('should refuse a bare number, an unknown unit, spaces and negatives', () => {
    for (const bad of ['7', '7 d', '7y', '-1h', '', 'h', '1h ']) expect(() => parseDuration(bad)).toThrow(/expected a duration/);
  });
});

describe('formatDuration', () => {
  it('should print two units at most', () => {
    expect([850, 4200, 60_000, 192_000, 18_180_000, 187_200_000, 604_800_000].map(formatDuration)).toEqual([
      '850ms', '4.2s', '1m', '3m12s', '5h03m', '2d04h', '7d',
    ]);
  });
});

describe('numbers', () => {
  it('should take whole numbers >= 1 only', () => {
    expect(parsePositiveInt('20')).toBe(20);
    for (const bad of ['0', '-1', '1.5', '1e3', 'ten', '']) expect(() => parsePositiveInt(bad)).toThrow(/whole number/);
  });

  it('should print rates', () => {
    expect([null, 0, 0.25, 12.5, 3456.7].map(formatRate)).toEqual(['-', '0', '0.3', '12.5', '3457']);
  });
});

describe('previews', () => {
  it('should keep a payload on one line, escaped and cut', () => {
    expect(oneLine('a\nb\tc\u001b[31m', 100)).toBe('a\\nb\\tc\\u001b[31m');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
  });

  it('should indent JSON and summarise what is beyond the lines asked for', () => {
    expect(prettyData({ a: 1, b: 2 }, 10)).toEqual(['{', '  "a": 1,', '  "b": 2', '}']);
    expect(prettyData({ a: 1, b: 2 }, 2)).toEqual(['{', '  "a": 1,', '… 2 more lines (--full shows all)']);
  });

  it('should print times to the second', () => {
    expect(isoSeconds(1_700_000_000_123)).toBe('2023-11-14T22:13:20Z');
    expect(isoSeconds('not a time')).toBe('not a time');
  });
});

describe('renderTable', () => {
  it('should align columns two spaces apart, numbers right, without trailing spaces', () => {
    expect(renderTable([{ header: 'NAME' }, { header: 'N', right: true }, { header: 'NOTE' }], [['a', '1', ''], ['long-name', '100', 'x']])).toEqual([
      'NAME         N  NOTE',
      'a            1',
      'long-name  100  x',
    ]);
  });
});
