import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REWARD_PARAMS, unvestedTotal, vestedAmount, vestedTotal } from '../../../coordinator/rewards/index.js';

const P = DEFAULT_REWARD_PARAMS;
const DAY = 86_400_000;

describe('vesting: 25% at once, the rest linearly over 30 days', () => {
  it('follows the schedule', () => {
    const g = { amount: 1_000_000, startMs: 1000 };
    expect(vestedAmount(g, 999, P)).toBe(0);
    expect(vestedAmount(g, 1000, P)).toBe(250_000);
    expect(vestedAmount(g, 1000 + 15 * DAY, P)).toBe(625_000);
    expect(vestedAmount(g, 1000 + 30 * DAY, P)).toBe(1_000_000);
    expect(vestedAmount(g, 1000 + 300 * DAY, P)).toBe(1_000_000);
  });

  it('never decreases, never exceeds the grant; vested + unvested = earned', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ amount: fc.integer({ min: 0, max: 1e13 }), startMs: fc.integer({ min: 0, max: 100 * DAY }) }), { maxLength: 10 }), fc.integer({ min: 0, max: 200 * DAY }), fc.integer({ min: 0, max: 10 * DAY }), (grants, t, dt) => {
        const earned = grants.reduce((s, g) => s + g.amount, 0);
        const v = vestedTotal(grants, t, P);
        expect(v + unvestedTotal(grants, t, P)).toBe(earned);
        expect(vestedTotal(grants, t + dt, P)).toBeGreaterThanOrEqual(v);
        for (const g of grants) expect(vestedAmount(g, t, P)).toBeLessThanOrEqual(g.amount);
      }),
    );
  });
});
