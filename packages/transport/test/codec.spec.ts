import { decode, DecodeError, encode, FIELD_DATA, WIRE_VERSION } from '@nestream/transport';

describe('wire codec', () => {
  describe('encode/decode', () => {
    it('should round-trip data, headers, correlation id, reply-to and deadline', () => {
      const fields = encode({
        data: { id: 1, tags: ['a'] }, correlationId: 'c-1',
        headers: { tenant: 'acme' }, replyTo: 'replies', deadline: 1700000005000,
      }) as string[];
      expect(decode(fields)).toEqual({
        data: { id: 1, tags: ['a'] }, correlationId: 'c-1',
        headers: { tenant: 'acme' }, replyTo: 'replies', deadline: 1700000005000,
      });
    });

    it('should write only data and cid for a plain event, after the given XADD arguments', () => {
      expect(encode({ data: 1, correlationId: 'c' }, ['stream', '*'])).toEqual(['stream', '*', 'data', '1', 'cid', 'c']);
    });

    it('should read entries of earlier producers, which wrote the version and the emit time', () => {
      expect(decode(['v', WIRE_VERSION, 'data', '{"id":1}', 'cid', 'c', 'ts', '1700000000000'])).toEqual({
        data: { id: 1 }, correlationId: 'c', headers: {},
      });
    });

    it('should accept an entry with only a data field (plain XADD from any tool)', () => {
      expect(decode([FIELD_DATA, '{"id":1}'])).toEqual({ data: { id: 1 }, headers: {} });
    });

    it('should ignore unknown fields', () => {
      expect(decode(['x-extra', '1', 'data', '"ok"']).data).toBe('ok');
    });

    it('should refuse data that is not JSON-serialisable', () => {
      expect(() => encode({ data: undefined, correlationId: 'c' })).toThrow(TypeError);
    });
  });

  describe('decode errors', () => {
    it.each([
      ['no fields', [], /no fields/],
      ['no data field', ['payload', '1'], /no "data" field/],
      ['bad JSON', ['data', '{nope'], /not valid JSON/],
      ['unknown version', ['v', '2', 'data', '1'], /unknown wire-format version "2"/],
      ['a __proto__ key', ['data', '{"__proto__":{"x":1}}'], /__proto__/],
      ['a nested __proto__ key', ['data', '{"a":[{"__proto__":1}]}'], /__proto__/],
      ['headers not an object', ['data', '1', 'h', '"x"'], /must be a JSON object/],
      ['a bad deadline', ['data', '1', 'dl', 'soon'], /"dl" must be a number/],
    ])('should throw DecodeError for %s', (_, fields, message) => {
      expect(() => decode(fields as string[])).toThrow(DecodeError);
      expect(() => decode(fields as string[])).toThrow(message as RegExp);
    });

    it('should accept "__proto__" inside a string value', () => {
      expect(decode(['data', '{"text":"__proto__"}']).data).toEqual({ text: '__proto__' });
    });

    it('should enforce maxBytes over all fields', () => {
      const fields = ['data', JSON.stringify('x'.repeat(100))];
      expect(() => decode(fields, 50)).toThrow(/maxPayloadBytes \(50\)/);
      expect(decode(fields, 1000).data).toBe('x'.repeat(100));
    });
  });
});
