/** How a round sizes and credits a challenge (coordinator/pot/window.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialBasis, inWindow, measuredGflops, nextBasis, potFlops, PROBE_DIVISOR, roundReps, windowGflops, type Basis, type WindowSettings } from '../../../coordinator/pot/window.js';

const S: WindowSettings = { windowMs: 5000, marginPercent: 10 };
const N = 4096;

describe('sizing', () => {
  it('asks for (100 - margin)% of the window less the round trip at the basis, at least one rep', () => {
    const basis: Basis = { gflops: 300_000, measured: true };
    const reps = roundReps(N, basis, S, 80_000);
    expect(reps).toBe(Math.floor((300_000 * 1000 * (4_500_000 - 80_000)) / potFlops(N, 1)));
    // The work it asks for takes the basis at most the budget.
    expect(potFlops(N, reps) / (300_000 * 1e3)).toBeLessThanOrEqual(4_420_000);
    expect(roundReps(N, { gflops: 1, measured: true }, S, 0)).toBe(1);
    expect(roundReps(N, basis, S, 10_000_000)).toBe(1);
  });

  it('starts a node from its last verdict, or from a probe a sixteenth of its class when it has shown no more than that', () => {
    expect(initialBasis(250_000, 100_000)).toEqual({ gflops: 250_000, measured: true });
    expect(initialBasis(null, 100_000)).toEqual({ gflops: 100_000 / PROBE_DIVISOR, measured: false });
    expect(initialBasis(0, 100_000)).toEqual({ gflops: 6250, measured: false });
    expect(initialBasis(6000, 100_000)).toEqual({ gflops: 6250, measured: false });
  });
});

describe('credit', () => {
  it('a commit inside the window is credited its work over the window, never over the time it took', () => {
    const reps = 1000;
    const flops = potFlops(N, reps);
    expect(inWindow(5000, S)).toBe(true);
    expect(inWindow(5000.001, S)).toBe(false);
    // Done in 1 s or in 4.9 s: the same credit.
    expect(windowGflops(N, reps, 1_000_000, S)).toBe(Math.floor(flops / 5e9));
    expect(windowGflops(N, reps, 4_900_000, S)).toBe(Math.floor(flops / 5e9));
    // A node that claims it took longer than the window is taken at its word.
    expect(windowGflops(N, reps, 10_000_000, S)).toBe(Math.floor(flops / 1e10));
  });

  it('measures the speed a commit showed over the longer of the claimed and the observed time', () => {
    const flops = potFlops(N, 10);
    expect(measuredGflops(N, 10, 1, 2_000_000)).toBe(flops / 2e9);
    expect(measuredGflops(N, 10, 3_000_000, 2_000_000)).toBe(flops / 3e9);
  });

  it('identities sharing one GPU are credited at most the GPU in a round, however they split it and whenever they commit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 2_000_000 }),
        fc.array(fc.record({ basis: fc.double({ min: 1, max: 4_000_000, noNaN: true }), delay: fc.double({ min: 0, max: 3_000, noNaN: true }) }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 200_000 }),
        (gpu, ids, rttUs) => {
          // The GPU runs their challenges one after another (any split is no better for a sum of work), each committing after an optional delay.
          let doneMs = 0;
          let credited = 0;
          for (const id of ids) {
            const reps = roundReps(64, { gflops: id.basis, measured: true }, S, rttUs);
            const own = potFlops(64, reps) / (gpu * 1e6);
            doneMs += own;
            const arrived = doneMs + id.delay + rttUs / 1000;
            if (inWindow(arrived, S)) credited += windowGflops(64, reps, Math.round(own * 1000), S);
          }
          return credited <= gpu;
        },
      ),
    );
  });
});

describe('the next basis', () => {
  const measuredAt = (gflops: number, coordinatorUs = 4_000_000, rttUs = 0) => ({ gflops, coordinatorUs, rttUs });

  it('falls to what a commit showed, rises by at most half the margin per round once measured', () => {
    const b: Basis = { gflops: 100_000, measured: true };
    expect(nextBasis(b, measuredAt(60_000), S)).toEqual({ gflops: 60_000, measured: true });
    expect(nextBasis(b, measuredAt(101_000), S)).toEqual({ gflops: 101_000, measured: true });
    expect(nextBasis(b, measuredAt(900_000), S)).toEqual({ gflops: 105_000, measured: true });
    // Nothing came: half, so a node much slower than its basis is soon asked what it can do.
    expect(nextBasis(b, null, S)).toEqual({ gflops: 50_000, measured: true });
  });

  it('a commit inside the window but after the part it was sized for counts (that part / its time)^2 less', () => {
    const b: Basis = { gflops: 100_000, measured: true };
    // 4.5 s is the 90% of a 5 s window a challenge is sized for: up to there nothing changes.
    expect(nextBasis(b, measuredAt(100_000, 4_500_000), S).gflops).toBe(100_000);
    expect(nextBasis(b, measuredAt(90_000, 4_950_000), S).gflops).toBeCloseTo(90_000 * (4.5 / 4.95) ** 2, 6);
    // The budget is net of the round trip the challenge was sized with.
    expect(nextBasis(b, measuredAt(100_000, 4_450_000, 100_000), S).gflops).toBeCloseTo(100_000 * (4.4 / 4.45) ** 2, 6);
    // After the window it is a miss: what it showed is taken as it is.
    expect(nextBasis(b, measuredAt(40_000, 11_000_000), S).gflops).toBe(40_000);
  });

  it('a probe climbs at most 16 times per round until a commit takes an eighth of the window', () => {
    const probe: Basis = { gflops: 6250, measured: false };
    // 8 x H100 answering a probe in 3.5 ms: too short to trust, so only 16 times more next round.
    expect(nextBasis(probe, measuredAt(7_900_000, 3_500), S)).toEqual({ gflops: 100_000, measured: false });
    // A commit that took 625 ms or more measures the node in full.
    expect(nextBasis({ gflops: 100_000, measured: false }, measuredAt(1_000_000, 625_000), S)).toEqual({ gflops: 1_000_000, measured: true });
    expect(nextBasis({ gflops: 100_000, measured: false }, measuredAt(1_000_000, 624_999), S)).toEqual({ gflops: 1_000_000, measured: false });
  });

  it('an honest node alone on its GPU settles at its speed and is credited the same share of it whatever its size', () => {
    const shares = [71_000, 165_000, 989_000, 7_912_000].map((gpu) => {
      let basis = initialBasis(null, 100_000);
      let credit = 0;
      for (let round = 0; round < 8; round++) {
        const reps = roundReps(N, basis, S, 80_000);
        const own = potFlops(N, reps) / (gpu * 1e6);
        const coordinatorUs = own * 1000;
        expect(inWindow(own + 80, S)).toBe(true);
        credit = windowGflops(N, reps, Math.round(own * 1000), S);
        basis = nextBasis(basis, { gflops: measuredGflops(N, reps, Math.round(own * 1000), coordinatorUs), coordinatorUs, rttUs: 80_000 }, S);
      }
      expect(basis.measured).toBe(true);
      return credit / gpu;
    });
    for (const share of shares) expect(share).toBeCloseTo(4.42 / 5, 3);
  });
});
