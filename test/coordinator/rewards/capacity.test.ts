import { describe, expect, it } from 'vitest';
import { epochChecks, verifiedCapacity, type VerdictFact } from '../../../coordinator/rewards/index.js';

const pass = (time: number, gflops: number): VerdictFact => ({ time, outcome: 'pass', gflops });
const fail = (time: number): VerdictFact => ({ time, outcome: 'fail', gflops: 999_999 });

describe('verified capacity V', () => {
  it('is the median of the last 5 verdicts, in time order whatever the input order', () => {
    const vs = [pass(1, 900), pass(7, 100), pass(3, 500), pass(4, 300), pass(5, 200), pass(6, 400)];
    // Last five by time: 500, 300, 200, 400, 100 -> median 300 (the 900 at t=1 has left the window).
    expect(verifiedCapacity(vs, 5)).toEqual({ gflops: 300, window: [500, 300, 200, 400, 100], zeroBecause: null });
  });

  it('a failed check zeroes V until a new challenge passes; then the fail counts as 0 in the median', () => {
    const vs = [pass(1, 100), pass(2, 100), pass(3, 100), fail(4)];
    expect(verifiedCapacity(vs, 5)).toMatchObject({ gflops: 0, zeroBecause: 'last-not-passed' });
    expect(verifiedCapacity([...vs, pass(5, 100)], 5)).toMatchObject({ gflops: 100, window: [100, 100, 100, 0, 100] });
    expect(verifiedCapacity([pass(1, 100), fail(2), fail(3), pass(4, 100)], 5)).toMatchObject({ gflops: 0 });
  });

  it('no verdicts: 0; an even count takes the lower middle; a fail at the same time as a pass counts as later', () => {
    expect(verifiedCapacity([], 5)).toMatchObject({ gflops: 0, zeroBecause: 'no-verdicts' });
    expect(verifiedCapacity([pass(1, 100), pass(2, 300)], 5).gflops).toBe(100);
    expect(verifiedCapacity([pass(2, 100), fail(2)], 5).gflops).toBe(0);
  });

  it('counts this epoch\'s checks by outcome', () => {
    expect(epochChecks([pass(9, 1), pass(10, 1), fail(15), { time: 19, outcome: 'missed', gflops: 0 }, fail(20)], 10, 20)).toEqual({ passed: 1, failed: 1, missed: 1 });
  });
});
