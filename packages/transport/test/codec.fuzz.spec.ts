import fc from 'fast-check';
import { decode, DecodeError, DEFAULT_DECODE_LIMITS, encode } from '@nestream/transport';
import { decodeReply, encodeReply } from '../src/wire/reply.js';

/**
 * Property tests of the codec: each rule is checked against a plain reference implementation written
 * independently of the codec's fast paths, on inputs fast-check generates (and shrinks when one fails).
 */

const PREFIX = DEFAULT_DECODE_LIMITS.replyPrefix;
const ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;
const idChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/+=-');
const id = fc.string({ unit: idChar, minLength: 1, maxLength: 128 });
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

/** Reference: does a parsed JSON value hold a `__proto__` key or a `constructor` object with a `prototype` key? */
function pollutes(value: unknown, parentKey?: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(v => pollutes(v));
  return Object.keys(value).some(
    k => k === '__proto__' || (k === 'prototype' && parentKey === 'constructor') || pollutes((value as Record<string, unknown>)[k], k),
  );
}

/** Reference: nesting depth of a parsed JSON value (scalars 0). */
function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, v) => Math.max(max, depth(v)), 0);
}

/** `key` with each character randomly written as a \u escape (lower or upper hex), as a JSON string literal. */
const escapedKey = (key: string) =>
  fc.array(fc.constantFrom('plain', 'lower', 'upper'), { minLength: key.length, maxLength: key.length }).map(modes =>
    [...key]
      .map((c, i) => {
        if (modes[i] === 'plain') return c;
        const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
        return `\\u${modes[i] === 'upper' ? hex.toUpperCase() : hex}`;
      })
      .join(''),
  );

/** A JSON text with `inner` (raw JSON) placed somewhere inside a random JSON value. */
const embedded = (inner: fc.Arbitrary<string>) =>
  fc
    .tuple(inner, fc.array(fc.tuple(fc.constantFrom('array', 'object'), fc.string({ maxLength: 5 }).filter(k => !FORBIDDEN.includes(k))), { maxLength: 6 }))
    .map(([text, path]) => path.reduceRight((acc, [kind, key]) => (kind === 'array' ? `[1,${acc}]` : `{${JSON.stringify(key)}:${acc}}`), text));

describe('wire codec properties', () => {
  it('should round-trip any JSON value, or refuse it exactly when it holds a polluting key or is too deep', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), data => {
        const fields = encode({ data, correlationId: 'c' }).map(String);
        const normalised = JSON.parse(fields[1]) as unknown;
        if (pollutes(normalised) || depth(normalised) > DEFAULT_DECODE_LIMITS.maxDepth) {
          expect(() => decode(fields)).toThrow(DecodeError);
        } else {
          expect(decode(fields).data).toEqual(normalised);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('should round-trip every request field the client writes', () => {
    const headers = fc.dictionary(fc.string({ maxLength: 20 }).filter(k => k !== '__proto__'), fc.string({ maxLength: 50 }), { maxKeys: 10 });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), id, id, headers, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (data, cid, client, h, dl) => {
        fc.pre(!pollutes(JSON.parse(JSON.stringify(data))));
        const message = { data, correlationId: cid, headers: h, replyTo: PREFIX + client, deadline: dl };
        const decoded = decode(encode(message).map(String));
        expect(decoded).toEqual({
          data: JSON.parse(JSON.stringify(data)), correlationId: cid, headers: h, replyTo: PREFIX + client, deadline: dl,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('should refuse __proto__ and constructor.prototype keys however they are escaped, wherever they are', () => {
    const proto = escapedKey('__proto__').map(k => `{"${k}":{"isAdmin":true}}`);
    const ctor = fc.tuple(escapedKey('constructor'), escapedKey('prototype')).map(([c, p]) => `{"${c}":{"${p}":{"isAdmin":true}}}`);
    fc.assert(
      fc.property(embedded(fc.oneof(proto, ctor)), fc.boolean(), (json, inHeaders) => {
        const fields = inHeaders ? ['data', '1', 'h', json] : ['data', json];
        expect(() => decode(fields)).toThrow(/"__proto__"|"constructor.prototype"/);
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('should accept nesting up to maxDepth and refuse anything deeper, arrays and objects mixed', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 100 }), (kinds, maxDepth) => {
        const text = kinds.reduceRight((acc, isArray) => (isArray ? `[${acc}]` : `{"k":${acc}}`), '0');
        const run = () => decode(['data', text], { ...DEFAULT_DECODE_LIMITS, maxDepth });
        if (kinds.length > maxDepth) expect(run).toThrow(/nested deeper/);
        else expect(run().data).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('should accept headers exactly when they are an object of at most 64 strings', () => {
    const value = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 10 }).filter(k => k !== '__proto__'), value, { maxKeys: 70 }), h => {
        const run = () => decode(['data', '1', 'h', JSON.stringify(h)]);
        const ok = Object.values(h).every(v => typeof v === 'string') && Object.keys(h).length <= 64;
        if (ok) expect(run().headers).toEqual(h);
        else expect(run).toThrow(DecodeError);
      }),
      { numRuns: 500 },
    );
  });

  it('should accept cid, rt and dl exactly when they are well formed', () => {
    const anyText = fc.oneof(fc.string({ maxLength: 140 }), id, fc.string({ unit: 'binary', maxLength: 20 }));
    const rt = fc.oneof(anyText, anyText.map(s => PREFIX + s), id.map(s => PREFIX + s));
    const dl = fc.oneof(fc.string({ maxLength: 20 }), fc.integer({ min: -10, max: Number.MAX_SAFE_INTEGER }).map(String), fc.double().map(String));
    fc.assert(
      fc.property(fc.oneof(anyText, id), rt, dl, (cid, replyTo, deadline) => {
        const ok =
          ID.test(cid) &&
          replyTo.startsWith(PREFIX) && ID.test(replyTo.slice(PREFIX.length)) &&
          /^[1-9][0-9]*$/.test(deadline) && Number(deadline) <= Number.MAX_SAFE_INTEGER;
        const run = () => decode(['data', '1', 'cid', cid, 'rt', replyTo, 'dl', deadline]);
        if (ok) expect(run()).toMatchObject({ correlationId: cid, replyTo, deadline: Number(deadline) });
        else expect(run).toThrow(DecodeError);
      }),
      { numRuns: 1000 },
    );
  });

  it('should only ever return or throw DecodeError, with a short message, whatever the fields', () => {
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 5 }), fc.string({ unit: 'binary', maxLength: 50 }));
    const name = fc.oneof(fc.constantFrom('data', 'v', 'cid', 'h', 'rt', 'dl', 'p'), fc.string({ maxLength: 5 }));
    fc.assert(
      fc.property(fc.array(fc.oneof(name, text), { maxLength: 12 }), fields => {
        try {
          decode(fields);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          expect((err as Error).message.length).toBeLessThan(400);
        }
        const reply = decodeReply(fields);
        expect(reply.error === undefined || reply.error instanceof DecodeError).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('should round-trip any reply packet', () => {
    fc.assert(
      fc.property(id, fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (cid, response, isDisposed) => {
        fc.pre(!pollutes(JSON.parse(JSON.stringify(response ?? null))));
        const decoded = decodeReply(encodeReply(cid, { response, isDisposed }));
        expect(decoded).toEqual({ correlationId: cid, packet: JSON.parse(JSON.stringify({ response, isDisposed })) });
      }),
      { numRuns: 300 },
    );
  });
});
