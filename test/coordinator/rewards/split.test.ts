import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apportion, largestRemainder } from '../../../coordinator/rewards/index.js';

describe('largest remainder', () => {
  it('shares add up to floor(sum of quotas); each is its quota rounded down or up; left-overs go to the largest remainders', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n * 10n ** 14n }), { minLength: 1, maxLength: 30 }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (nums, den) => {
        const quotas = nums.map((num, i) => ({ id: `n${String(i).padStart(3, '0')}`, num }));
        const r = largestRemainder(quotas, den);
        const sum = nums.reduce((s, x) => s + x, 0n);
        expect(BigInt(r.total)).toBe(sum / den);
        expect(r.amounts.reduce((s, x) => s + x, 0)).toBe(r.total);
        nums.forEach((num, i) => {
          const floor = Number(num / den);
          expect(r.amounts[i]).toBe(floor + (r.extra[i] === true ? 1 : 0));
          // Nobody without an extra micro-credit has a larger remainder than somebody with one.
          if (r.extra[i] !== true) for (let j = 0; j < nums.length; j++) if (r.extra[j] === true) expect((nums[j] ?? 0n) % den >= num % den).toBe(true);
        });
      }),
    );
  });

  it('equal remainders: the smaller id first', () => {
    const r = largestRemainder([{ id: 'b', num: 1n }, { id: 'a', num: 1n }, { id: 'c', num: 1n }], 3n);
    expect(r.amounts).toEqual([0, 1, 0]);
  });

  it('apportion splits an integer by integer weights, exactly', () => {
    expect(apportion(10, [{ id: 'a', weight: 1n }, { id: 'b', weight: 1n }, { id: 'c', weight: 1n }])).toEqual([4, 3, 3]);
    expect(apportion(7, [{ id: 'a', weight: 0n }])).toEqual([0]);
  });
});
