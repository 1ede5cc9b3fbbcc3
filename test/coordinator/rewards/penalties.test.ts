import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { correlatedSlashPpm, DEFAULT_REWARD_PARAMS, failingFractionPpm, slashRepeatedly } from '../../../coordinator/rewards/index.js';

const P = DEFAULT_REWARD_PARAMS;

describe('correlation penalty', () => {
  it('a lone failure is slashed the base 10%; a third of all stake failing together is slashed in full', () => {
    expect(correlatedSlashPpm(100_000, 0, P)).toBe(100_000);
    expect(correlatedSlashPpm(100_000, failingFractionPpm(1, 3), P)).toBe(999_999);
    expect(correlatedSlashPpm(100_000, failingFractionPpm(1, 2), P)).toBe(1_000_000);
    expect(failingFractionPpm(5, 0)).toBe(0);
  });

  it('grows with the failing share and stays within [base, 100%]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (base, f1, f2) => {
        const [lo, hi] = f1 <= f2 ? [f1, f2] : [f2, f1];
        const a = correlatedSlashPpm(base, lo, P);
        expect(a).toBeGreaterThanOrEqual(base);
        expect(correlatedSlashPpm(base, hi, P)).toBeGreaterThanOrEqual(a);
        expect(correlatedSlashPpm(base, hi, P)).toBeLessThanOrEqual(1_000_000);
      }),
    );
  });
});

describe('slashing', () => {
  it('takes the fraction of what is left, rounded up, per event', () => {
    expect(slashRepeatedly(1000, 1, 100_000)).toEqual({ after: 900, slashed: 100 });
    expect(slashRepeatedly(1000, 2, 100_000)).toEqual({ after: 810, slashed: 190 });
    expect(slashRepeatedly(5, 1, 100_000)).toEqual({ after: 4, slashed: 1 });
    expect(slashRepeatedly(0, 3, 100_000)).toEqual({ after: 0, slashed: 0 });
  });

  it('splitting stake across identities never lowers what is slashed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e12 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1_000_000 }), (parts, events, ppm) => {
        const whole = slashRepeatedly(parts.reduce((s, x) => s + x, 0), events, ppm).slashed;
        const split = parts.reduce((s, x) => s + slashRepeatedly(x, events, ppm).slashed, 0);
        expect(split).toBeGreaterThanOrEqual(whole);
      }),
    );
  });
});
