import { describe, expect, it } from 'vitest';
import { allocate, DEFAULT_MIX, parseMix, STRATEGY_NAMES } from '../../../coordinator/sim/index.js';
import { thrown } from '../../helpers/errors.js';

describe('strategy mix', () => {
  it('parses NAME=WEIGHT pairs', () => {
    expect(parseMix('honest=0.6, sybil=0.2,lazy=.2')).toEqual({ honest: 0.6, sybil: 0.2, lazy: 0.2 });
  });

  it('names every problem, and requires honest nodes to compare against', () => {
    const e = thrown(() => parseMix('honest=1,bogus=2,lazy,sybil=1,sybil=2'));
    expect(e.code).toBe('sim-options-invalid');
    expect(e.message).toContain('unknown strategy "bogus"');
    expect(e.message).toContain('"lazy" is not NAME=WEIGHT');
    expect(e.message).toContain('"sybil" given twice');
    expect(e.hint).toContain('rep-fraud');
    expect(thrown(() => parseMix('lazy=1')).message).toContain('honest must have a weight');
  });

  it('allocates exactly --nodes operators', () => {
    for (const n of [1, 7, 100, 1001]) expect(allocate(n, DEFAULT_MIX).reduce((s, a) => s + a.count, 0)).toBe(n);
    expect(allocate(1000, DEFAULT_MIX).find((a) => a.strategy === 'honest')?.count).toBe(500);
    expect(new Set(Object.keys(DEFAULT_MIX))).toEqual(new Set(STRATEGY_NAMES));
  });
});
