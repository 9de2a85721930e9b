import { checkEntryId, compareEntryIds, entryTime, nextEntryId } from '../../src/admin/entry-id.js';
import { StreamsAdminError } from '../../src/admin/streams-admin.error.js';

describe('entry ids', () => {
  it('should accept full ids only', () => {
    expect(checkEntryId('1700000000000-0')).toBe('1700000000000-0');
    for (const bad of ['1700000000000', '-', '$', '>', '1-2-3', 'abc-0', ' 1-0']) {
      expect(() => checkEntryId(bad)).toThrow(StreamsAdminError);
    }
  });

  it('should order ids as Redis does, sequence numbers beyond 2^53 included', () => {
    expect(compareEntryIds('2-0', '10-0')).toBe(-1);
    expect(compareEntryIds('5-10', '5-9')).toBe(1);
    expect(compareEntryIds('5-9007199254740993', '5-9007199254740992')).toBe(1);
    expect(compareEntryIds('5-1', '5-1')).toBe(0);
  });

  it('should give the next id and the time of an id', () => {
    expect(nextEntryId('5-18446744073709551614')).toBe('5-18446744073709551615');
    expect(entryTime('1700000000123-4')).toBe(1_700_000_000_123);
  });
});
