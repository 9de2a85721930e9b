import { decode, DecodeError, DEFAULT_DECODE_LIMITS, encode, FIELD_DATA, FIELD_METADATA } from '@nestream/transport';

describe('wire codec: packet metadata (m)', () => {
  it('should round-trip metadata beside headers, and leave it out when empty or absent', () => {
    const fields = encode({ data: 1, correlationId: 'c', headers: { h: '1' }, metadata: { 'x-request-id': 'r-1' } }) as string[];
    expect(fields).toContain(FIELD_METADATA);
    expect(decode(fields)).toEqual({ data: 1, correlationId: 'c', headers: { h: '1' }, metadata: { 'x-request-id': 'r-1' } });
    expect(encode({ data: 1, correlationId: 'c', metadata: {} })).not.toContain(FIELD_METADATA);
    expect(decode([FIELD_DATA, '1']).metadata).toBeUndefined();
  });

  it('should refuse non-string values at the producer', () => {
    expect(() => encode({ data: 1, correlationId: 'c', metadata: { n: 1 as unknown as string } })).toThrow(/Packet metadata "n" must be a string, got number/);
    expect(() => encode({ data: 1, correlationId: 'c', metadata: ['a'] as unknown as Record<string, string> })).toThrow(/must be an object of strings, got an array/);
  });

  it.each([
    ['not JSON', '{', /"m"/],
    ['not an object', '"a"', /"m" must be a JSON object/],
    ['a non-string value', '{"a":1}', /"m" value of "a" must be a string/],
    ['too large', JSON.stringify({ a: 'x'.repeat(DEFAULT_DECODE_LIMITS.maxHeaderBytes) }), /"m" is larger than 8192 bytes/],
    ['too many keys', JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, '']))), /"m" has more than 64 keys/],
  ])('should refuse metadata that is %s with a DecodeError', (_what, value, message) => {
    expect(() => decode([FIELD_DATA, '1', FIELD_METADATA, value])).toThrow(DecodeError);
    expect(() => decode([FIELD_DATA, '1', FIELD_METADATA, value])).toThrow(message);
  });
});
