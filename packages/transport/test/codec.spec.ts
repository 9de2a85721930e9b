import { decode, DecodeError, DEFAULT_DECODE_LIMITS, encode, FIELD_DATA, WIRE_VERSION } from '@nestream/transport';
import { decodeReply, encodeReply } from '../src/wire/reply.js';

const RT = 'nestream:replies:0b5c1f9e-2a1d-4c3b-9e8f-7a6b5c4d3e2f';
const limits = (overrides: Partial<typeof DEFAULT_DECODE_LIMITS>) => ({ ...DEFAULT_DECODE_LIMITS, ...overrides });
const nested = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth);

describe('wire codec', () => {
  describe('encode/decode', () => {
    it('should round-trip data, headers, correlation id, reply-to and deadline', () => {
      const fields = encode({
        data: { id: 1, tags: ['a'] }, correlationId: 'c-1',
        headers: { tenant: 'acme' }, replyTo: RT, deadline: 1700000005000,
      }) as string[];
      expect(decode(fields)).toEqual({
        data: { id: 1, tags: ['a'] }, correlationId: 'c-1',
        headers: { tenant: 'acme' }, replyTo: RT, deadline: 1700000005000,
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

    it('should refuse header values that are not strings, at the producer', () => {
      expect(() => encode({ data: 1, correlationId: 'c', headers: { retries: 3 as unknown as string } })).toThrow(/Header "retries" must be a string/);
    });

    it('should leave out empty headers', () => {
      expect(encode({ data: 1, correlationId: 'c', headers: {} })).toEqual(['data', '1', 'cid', 'c']);
    });
  });

  describe('decode errors', () => {
    it.each([
      ['no fields', [], /no fields/],
      ['no data field', ['payload', '1'], /no "data" field/],
      ['bad JSON', ['data', '{nope'], /not valid JSON/],
      ['unknown version', ['v', '2', 'data', '1'], /unknown wire-format version "2"/],
      ['headers not an object', ['data', '1', 'h', '"x"'], /must be a JSON object/],
      ['headers an array', ['data', '1', 'h', '["x"]'], /must be a JSON object/],
    ])('should throw DecodeError for %s', (_, fields, message) => {
      expect(() => decode(fields as string[])).toThrow(DecodeError);
      expect(() => decode(fields as string[])).toThrow(message as RegExp);
    });

    it('should enforce maxBytes over all fields, in UTF-8 bytes', () => {
      const fields = ['data', JSON.stringify('x'.repeat(100))];
      expect(() => decode(fields, limits({ maxBytes: 50 }))).toThrow(/maxPayloadBytes \(50 bytes\)/);
      expect(decode(fields, limits({ maxBytes: 1000 })).data).toBe('x'.repeat(100));
      // 40 characters, 120 bytes: the byte count decides, not the length.
      const wide = ['data', JSON.stringify('€'.repeat(40))];
      expect(() => decode(wide, limits({ maxBytes: 100 }))).toThrow(DecodeError);
      expect(decode(wide, limits({ maxBytes: 130 })).data).toBe('€'.repeat(40));
    });

    it('should enforce maxFields (name/value pairs), 1,000 by default, saying the count and the limit', () => {
      const withFields = (n: number) => ['data', '1', ...Array.from({ length: n - 1 }, (_, i) => [`f${i}`, 'v']).flat()];
      expect(decode(withFields(1000)).data).toBe(1);
      expect(() => decode(withFields(1001))).toThrow(DecodeError);
      expect(() => decode(withFields(5000))).toThrow('entry has 5000 fields, more than maxPayloadFields (1000)');
      expect(() => decode(withFields(3), limits({ maxFields: 2 }))).toThrow('entry has 3 fields, more than maxPayloadFields (2)');
      expect(decode(withFields(2), limits({ maxFields: 2 })).data).toBe(1);
    });

    it('should refuse an entry over 1 MiB by default', () => {
      expect(() => decode(['data', JSON.stringify('x'.repeat(1024 * 1024))])).toThrow(/maxPayloadBytes \(1048576 bytes\)/);
    });
  });

  describe('prototype-polluting keys', () => {
    it.each([
      ['__proto__', '{"__proto__":{"isAdmin":true}}'],
      ['__proto__, nested in an array', '{"a":[{"__proto__":1}]}'],
      ['__proto__ spelled with an escape', '{"\\u005f_proto__":{"isAdmin":true}}'],
      ['__proto__ spelled with upper-case escapes', '{"\\u005F\\u005F\\u0070roto__":{"isAdmin":true}}'],
      ['__proto__ spelled entirely with escapes', `{"${[...'__proto__'].map(c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}":1}`],
      ['constructor.prototype', '{"constructor":{"prototype":{"isAdmin":true}}}'],
      ['constructor.prototype, nested', '{"user":{"constructor":{"prototype":{"isAdmin":true}}}}'],
      ['constructor.prototype spelled with escapes', '{"constructor":{"pr\\u006ftotype":{"isAdmin":true}}}'],
    ])('should refuse %s in data', (_, json) => {
      expect(() => decode(['data', json])).toThrow(DecodeError);
      expect(() => decode(['data', json])).toThrow(/"__proto__"|"constructor.prototype"/);
    });

    it('should refuse __proto__ in headers, however spelled', () => {
      expect(() => decode(['data', '1', 'h', '{"\\u005f_proto__":"x"}'])).toThrow(/"h" has a "__proto__" key/);
    });

    it('should leave Object.prototype untouched by a handler that merges what it received', () => {
      const received = decode(['data', '{"a":1}']).data as Record<string, unknown>;
      const merged = Object.assign({}, received);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    });

    it.each([
      ['"__proto__" inside a string value', '{"text":"__proto__"}', { text: '__proto__' }],
      ['a "constructor" key with a plain value', '{"constructor":"Ferrari"}', { constructor: 'Ferrari' }],
      ['a "constructor" object without "prototype"', '{"constructor":{"name":"Ferrari"}}', { constructor: { name: 'Ferrari' } }],
      ['a "prototype" key elsewhere', '{"prototype":{"v":1}}', { prototype: { v: 1 } }],
      ['a "protocol" key', '{"protocol":"https"}', { protocol: 'https' }],
      ['escaped non-ASCII text', '{"name":"Ad\\u00e5"}', { name: 'Adå' }],
    ])('should accept %s', (_, json, expected) => {
      expect(decode(['data', json]).data).toEqual(expected);
    });
  });

  describe('depth bound', () => {
    it('should accept 64 levels and refuse 65 by default', () => {
      expect(() => decode(['data', nested(64, '[', ']')])).not.toThrow();
      expect(() => decode(['data', nested(65, '[', ']')])).toThrow(/nested deeper than 64 levels \(maxPayloadDepth\)/);
      const objects = (d: number) => '{"a":'.repeat(d) + '1' + '}'.repeat(d);
      expect(() => decode(['data', objects(64)])).not.toThrow();
      expect(() => decode(['data', objects(65)])).toThrow(DecodeError);
    });

    it('should refuse 100,000-deep JSON without overflowing the stack', () => {
      const arrays = nested(100_000, '[', ']');
      const objects = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
      for (const text of [arrays, objects]) {
        expect(() => decode(['data', text])).toThrow(/nested deeper than 64 levels/);
      }
    });

    it('should not count brackets inside strings', () => {
      const text = JSON.stringify({ text: '['.repeat(500), list: Array.from({ length: 100 }, () => ({ a: [1] })) });
      expect(decode(['data', text]).data).toEqual(JSON.parse(text));
    });

    it('should apply the configured bound to data and headers', () => {
      expect(() => decode(['data', '[[[1]]]'], limits({ maxDepth: 2 }))).toThrow(/deeper than 2 levels/);
      expect(decode(['data', '[[1]]'], limits({ maxDepth: 2 })).data).toEqual([[1]]);
    });
  });

  describe('headers', () => {
    it.each([
      ['a number', '{"retries":3}'],
      ['an object', '{"trace":{"id":"x"}}'],
      ['null', '{"trace":null}'],
      ['an array', '{"tags":["a"]}'],
      ['a boolean', '{"debug":true}'],
    ])('should refuse a header value that is %s', (_, h) => {
      expect(() => decode(['data', '1', 'h', h])).toThrow(/value of ".+" must be a string/);
    });

    it('should bound the number of headers and the size of the field', () => {
      const many = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])));
      expect(Object.keys(decode(['data', '1', 'h', many(64)]).headers)).toHaveLength(64);
      expect(() => decode(['data', '1', 'h', many(65)])).toThrow(/more than 64 headers/);
      expect(() => decode(['data', '1', 'h', JSON.stringify({ big: 'x'.repeat(9000) })])).toThrow(/"h" is larger than 8192 bytes/);
    });
  });

  describe('request fields', () => {
    it('should accept a request as the client writes it, under a key prefix too', () => {
      const fields = ['data', '1', 'cid', 'f3b1c2d4-aaaa-4bbb-8ccc-123456789abc', 'rt', `acme:${RT}`, 'dl', '1769508000000'];
      expect(decode(fields, limits({ replyPrefix: 'acme:nestream:replies:' }))).toMatchObject({
        replyTo: `acme:${RT}`, deadline: 1769508000000,
      });
    });

    it.each([
      ['another service stream', 'payments.completed'],
      ['a dead-letter stream', 'orders.created:dlq'],
      ['another tenant reply stream', 'other:nestream:replies:abc'],
      ['the namespace alone', 'nestream:replies:'],
      ['a client id with a space', 'nestream:replies:a b'],
      ['a client id with a newline', 'nestream:replies:a\nb'],
      ['a client id with a hash tag', 'nestream:replies:{orders}'],
      ['a client id of 129 characters', `nestream:replies:${'a'.repeat(129)}`],
    ])('should refuse rt pointing at %s', (_, rt) => {
      expect(() => decode(['data', '1', 'cid', 'c1', 'rt', rt])).toThrow(/"rt" /);
    });

    it('should refuse rt without cid', () => {
      expect(() => decode(['data', '1', 'rt', RT])).toThrow(/"rt" without "cid"/);
    });

    it.each([
      ['empty', '', /"cid" is empty/],
      ['1 MB long', 'c'.repeat(1_000_000), /"cid" is longer than 128 characters/],
      ['129 characters', 'c'.repeat(129), /longer than 128/],
      ['with a space', 'a b', /outside A-Z/],
      ['with a newline', 'a\nb', /outside A-Z/],
      ['non-ASCII', 'é', /outside A-Z/],
    ])('should refuse a cid that is %s', (_, cid, message) => {
      expect(() => decode(['data', '1', 'cid', cid, 'rt', RT])).toThrow(message);
    });

    it('should never quote a long field whole in its error', () => {
      const cid = `${'c'.repeat(1_000_000)} `;
      const error = (() => {
        try {
          decode(['data', '1', 'cid', 'ok', 'rt', `nestream:replies:${cid}`]);
        } catch (err) {
          return err as Error;
        }
      })();
      expect(error).toBeInstanceOf(DecodeError);
      expect(error!.message.length).toBeLessThan(300);
    });

    it.each(['', 'soon', '0', '-1', '+1', '1e13', '1.5', ' 1', '99999999999999999'])('should refuse dl %j', dl => {
      expect(() => decode(['data', '1', 'cid', 'c', 'rt', RT, 'dl', dl])).toThrow(/"dl" must be a positive integer/);
    });

    it("should only bound the length of an event's cid (nothing echoes it)", () => {
      expect(decode(['data', '1', 'cid', 'order 42 / retry #1']).correlationId).toBe('order 42 / retry #1');
      expect(() => decode(['data', '1', 'cid', 'c'.repeat(1_000_000)])).toThrow(/"cid" is longer than 128 characters/);
      expect(() => decode(['data', '1', 'cid', ''])).toThrow(/"cid" is empty/);
    });

    it('should accept a cid made of base64 or ULID characters', () => {
      expect(decode(['data', '1', 'cid', 'AZaz09._:/+=-']).correlationId).toBe('AZaz09._:/+=-');
    });
  });

  describe('replies', () => {
    it('should round-trip a reply packet', () => {
      expect(decodeReply(encodeReply('c1', { response: { ok: 1 }, isDisposed: true }))).toEqual({
        correlationId: 'c1', packet: { response: { ok: 1 }, isDisposed: true },
      });
    });

    it.each([
      ['a __proto__ key', '{"response":{"\\u005f_proto__":{"isAdmin":true}}}', /__proto__/],
      ['bad JSON', '{', /not valid JSON/],
      ['a packet that is not an object', '1', /must be a JSON object/],
    ])('should turn a reply with %s into an error for its caller', (_, p, message) => {
      const decoded = decodeReply(['cid', 'c1', 'p', p]);
      expect(decoded.correlationId).toBe('c1');
      expect(decoded.error).toBeInstanceOf(DecodeError);
      expect(decoded.error?.message).toMatch(message);
    });
  });
});
