import { lastSeenBefore } from '../../src/admin/groups.js';

describe('lastSeenBefore(): the last-delivered id that makes a group read from a position on', () => {
  it('is the id just before an entry id, across the millisecond boundary', () => {
    expect(lastSeenBefore('1700000000000-5', '9-9')).toBe('1700000000000-4');
    expect(lastSeenBefore('1700000000000-0', '9-9')).toBe('1699999999999-18446744073709551615');
    expect(lastSeenBefore('0-0', '9-9')).toBe('0-0');
  });

  it('is the last id of the millisecond before a time, the start, or the last generated id', () => {
    expect(lastSeenBefore(new Date(1700000000000), '9-9')).toBe('1699999999999-18446744073709551615');
    expect(lastSeenBefore('start', '9-9')).toBe('0-0');
    expect(lastSeenBefore('end', '1700000000000-3')).toBe('1700000000000-3');
  });

  it('refuses what is not a position', () => {
    expect(() => lastSeenBefore('yesterday', '9-9')).toThrow('Bad entry id "yesterday"');
    expect(() => lastSeenBefore(new Date('nope'), '9-9')).toThrow('Bad date');
  });
});
