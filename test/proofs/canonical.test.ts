import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalize, CanonicalError } from '../../proofs/canonical.js';

function errorPath(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CanonicalError);
    expect((e as CanonicalError).code).toBe('non-canonical');
    return (e as CanonicalError).path;
  }
  throw new Error('expected a CanonicalError');
}

describe('canonicalize', () => {
  it('sorts keys at every level and drops whitespace', () => {
    expect(canonicalize({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('orders keys by code unit, uppercase before lowercase', () => {
    expect(canonicalize({ b: 1, B: 2, a: 3, _: 4, '1': 5 })).toBe('{"1":5,"B":2,"_":4,"a":3,"b":1}');
  });

  it('escapes strings exactly as JSON.stringify, unicode included', () => {
    const s = 'héllo "wörld"\n\t\\ \u0001 \u2028 😀 \ud800';
    expect(canonicalize({ s })).toBe(`{"s":${JSON.stringify(s)}}`);
    expect(canonicalize('ü')).toBe('"ü"');
  });

  it('encodes safe integers at the limits and -0 as 0', () => {
    expect(canonicalize([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -0, 0])).toBe('[9007199254740991,-9007199254740991,0,0]');
  });

  it('agrees with JSON.stringify on sorted input for arbitrary JSON of integers', () => {
    const sortDeep = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortDeep) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])])) : v;
    const asciiKey = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 6 }).filter((k) => k !== '__proto__' && !/^(0|[1-9][0-9]*)$/.test(k)); // JS enumerates integer-like keys first, so the reference would not be sorted
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(asciiKey, tie('value'), { maxKeys: 4 })),
    })).value;
    fc.assert(fc.property(json, (v) => canonicalize(v) === JSON.stringify(sortDeep(v))));
  });

  it.each([
    ['a float', { body: { gpus: [{ util: 0.5 }] } }, 'body.gpus[0].util'],
    ['NaN', { a: [1, Number.NaN] }, 'a[1]'],
    ['Infinity', { a: Number.POSITIVE_INFINITY }, 'a'],
    ['an unsafe integer', { n: 2 ** 53 }, 'n'],
    ['a bigint', { n: 1n }, 'n'],
    ['undefined', { u: undefined }, 'u'],
    ['a function', { f: () => 1 }, 'f'],
    ['a symbol', { s: Symbol('x') }, 's'],
    ['a Date', { d: new Date(0) }, 'd'],
    ['a typed array', { b: new Uint8Array(2) }, 'b'],
    ['a Map', { m: new Map() }, 'm'],
    ['a non-ASCII key', { outer: { 'clé': 1 } }, 'outer["clé"]'],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    ['an array hole', { h: [1, , 3] }, 'h[1]'],
  ])('rejects %s and names its path', (_what, value, path) => {
    expect(errorPath(() => canonicalize(value))).toBe(path);
  });

  it('names the root when the value itself is bad', () => {
    expect(errorPath(() => canonicalize(1.5))).toBe('');
    expect(() => canonicalize(1.5)).toThrow(/\(root\)/);
  });

  it('accepts objects with a null prototype', () => {
    const o = Object.create(null) as Record<string, number>;
    o['b'] = 2;
    o['a'] = 1;
    expect(canonicalize(o)).toBe('{"a":1,"b":2}');
  });
});
