/** How a round sizes and credits a challenge (coordinator/pot/window.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialBasis, inWindow, measuredGflops, nextBasis, potFlops, PROBE_DIVISOR, roundCredit, roundReps, windowGflops, type Basis, type WindowSettings } from '../../../coordinator/pot/window.js';

const S: WindowSettings = { windowMs: 5000, marginPercent: 10 };
const N = 4096;

describe('sizing', () => {
  it('asks for (100 - margin)% of the window less the round trip at the basis, at least one rep', () => {
    const basis: Basis = { gflops: 300_000, measured: true, overran: false };
    const reps = roundReps(N, basis, S, 80_000);
    expect(reps).toBe(Math.floor((300_000 * 1000 * (4_500_000 - 80_000)) / potFlops(N, 1)));
    // The work it asks for takes the basis at most the budget.
    expect(potFlops(N, reps) / (300_000 * 1e3)).toBeLessThanOrEqual(4_420_000);
    expect(roundReps(N, { gflops: 1, measured: true, overran: false }, S, 0)).toBe(1);
    expect(roundReps(N, basis, S, 10_000_000)).toBe(1);
  });

  it('starts a node from its last verdict, or from a probe a sixteenth of its class when it has shown no more than that', () => {
    expect(initialBasis(250_000, 100_000)).toEqual({ gflops: 250_000, measured: true, overran: false });
    expect(initialBasis(null, 100_000)).toEqual({ gflops: 100_000 / PROBE_DIVISOR, measured: false, overran: false });
    expect(initialBasis(0, 100_000)).toEqual({ gflops: 6250, measured: false, overran: false });
    expect(initialBasis(6000, 100_000)).toEqual({ gflops: 6250, measured: false, overran: false });
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

  it('a round credits at most what the basis it was sized with, and its next basis, ask in the budget', () => {
    const sized: Basis = { gflops: 100_000, measured: true, overran: false };
    const reps = roundReps(N, sized, S, 0);
    const onTime = nextBasis(sized, { gflops: 100_000, coordinatorUs: 4_400_000, rttUs: 0 }, S);
    // On time: its work over the window, as before.
    expect(roundCredit(N, reps, 4_400_000, sized, onTime, S, 0)).toBe(windowGflops(N, reps, 4_400_000, S));
    // After its budget: what its next basis, cut for the overrun, asks.
    const shown = measuredGflops(N, reps, 4_900_000, 4_900_000);
    const overran = nextBasis(sized, { gflops: shown, coordinatorUs: 4_900_000, rttUs: 0 }, S);
    expect(roundCredit(N, reps, 4_900_000, sized, overran, S, 0)).toBe(Math.floor((overran.gflops * 4_500_000) / 5_000_000));
    expect(roundCredit(N, reps, 4_900_000, sized, overran, S, 0)).toBeLessThan(windowGflops(N, reps, 4_900_000, S) * 0.4);
    // One rep (the least a challenge asks) of a basis that asks less than one earns what the basis asks, not the rep.
    const tiny: Basis = { gflops: 10, measured: true, overran: false };
    expect(roundReps(N, tiny, S, 0)).toBe(1);
    expect(windowGflops(N, 1, 1_000, S)).toBe(27);
    expect(roundCredit(N, 1, 1_000, tiny, { ...tiny, gflops: 11 }, S, 0)).toBe(9);
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
            const reps = roundReps(64, { gflops: id.basis, measured: true, overran: false }, S, rttUs);
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
    const b: Basis = { gflops: 100_000, measured: true, overran: false };
    expect(nextBasis(b, measuredAt(60_000), S)).toEqual({ gflops: 60_000, measured: true, overran: false });
    expect(nextBasis(b, measuredAt(101_000), S)).toEqual({ gflops: 101_000, measured: true, overran: false });
    expect(nextBasis(b, measuredAt(900_000), S)).toEqual({ gflops: 105_000, measured: true, overran: false });
    // Nothing came: half, so a node much slower than its basis is soon asked what it can do.
    expect(nextBasis(b, null, S)).toEqual({ gflops: 50_000, measured: true, overran: true });
  });

  it('a commit inside the window but after the part it was sized for counts (that part / its time)^10 less', () => {
    const b: Basis = { gflops: 100_000, measured: true, overran: false };
    // 4.5 s is the 90% of a 5 s window a challenge is sized for: up to there nothing changes.
    expect(nextBasis(b, measuredAt(100_000, 4_500_000), S)).toEqual({ gflops: 100_000, measured: true, overran: false });
    expect(nextBasis(b, measuredAt(90_000, 4_950_000), S).gflops).toBeCloseTo(90_000 * (4.5 / 4.95) ** 10, 6);
    // The budget is net of the round trip the challenge was sized with.
    expect(nextBasis(b, measuredAt(100_000, 4_450_000, 100_000), S).gflops).toBeCloseTo(100_000 * (4.4 / 4.45) ** 10, 6);
    // After the window it is late: what it showed is taken as it is.
    expect(nextBasis(b, measuredAt(40_000, 11_000_000), S)).toEqual({ gflops: 40_000, measured: true, overran: true });
  });

  it('a second overrun in a row, late or missing commits included, leaves at most 4/5 of the basis', () => {
    const b: Basis = { gflops: 100_000, measured: true, overran: false };
    const once = nextBasis(b, measuredAt(100_000, 4_500_001), S);
    expect(once.overran).toBe(true);
    expect(once.gflops).toBeGreaterThan(99_000);
    expect(nextBasis(once, measuredAt(100_000, 4_500_001), S).gflops).toBeCloseTo(once.gflops * 0.8, 6);
    expect(nextBasis(once, measuredAt(95_000, 11_000_000), S).gflops).toBeCloseTo(once.gflops * 0.8, 6);
    expect(nextBasis(once, null, S).gflops).toBe(once.gflops / 2);
    expect(nextBasis(nextBasis(b, null, S), measuredAt(100_000, 4_500_001), S).gflops).toBeCloseTo(40_000, 6);
    // On time in between: the next overrun is a first one again.
    const back = nextBasis(once, measuredAt(200_000, 4_000_000), S);
    expect(back.overran).toBe(false);
    expect(nextBasis(back, measuredAt(back.gflops, 4_500_001), S).gflops).toBeGreaterThan(back.gflops * 0.99);
  });

  it('a probe climbs at most 16 times per round until a commit takes an eighth of the window', () => {
    const probe: Basis = { gflops: 6250, measured: false, overran: false };
    // 8 x H100 answering a probe in 3.5 ms: too short to trust, so only 16 times more next round.
    expect(nextBasis(probe, measuredAt(7_900_000, 3_500), S)).toEqual({ gflops: 100_000, measured: false, overran: false });
    // A commit that took 625 ms or more measures the node in full.
    expect(nextBasis({ gflops: 100_000, measured: false, overran: false }, measuredAt(1_000_000, 625_000), S)).toEqual({ gflops: 1_000_000, measured: true, overran: false });
    expect(nextBasis({ gflops: 100_000, measured: false, overran: false }, measuredAt(1_000_000, 624_999), S)).toEqual({ gflops: 1_000_000, measured: false, overran: false });
  });

  it('identities sharing one GPU earn less together than an honest node on it, whether they keep one order or take turns at committing last', () => {
    const gpu = 165_000;
    const rttUs = 80_000;
    /** Credit over 200 rounds of `count` identities starting from an even split, every commit as soon as its work is done. */
    const total = (count: number, rotate: boolean): number => {
      const bases: Basis[] = Array.from({ length: count }, () => ({ gflops: gpu / count, measured: true, overran: false }));
      let credit = 0;
      for (let round = 0; round < 200; round++) {
        const reps = bases.map((b) => roundReps(N, b, S, rttUs));
        let doneUs = 0;
        for (let k = 0; k < count; k++) {
          const i = (k + (rotate ? round : 0)) % count;
          const ownUs = potFlops(N, reps[i]!) / (gpu * 1e3);
          doneUs += ownUs;
          // Arrives a round trip after it is done; the coordinator's time is that less the round trip.
          const next = nextBasis(bases[i]!, { gflops: measuredGflops(N, reps[i]!, Math.round(ownUs), doneUs), coordinatorUs: doneUs, rttUs }, S);
          if (inWindow((doneUs + rttUs) / 1000, S)) credit += roundCredit(N, reps[i]!, Math.round(ownUs), bases[i]!, next, S, rttUs);
          bases[i] = next;
        }
      }
      return credit;
    };
    const honest = total(1, false);
    for (const count of [2, 3, 4]) {
      expect(total(count, false)).toBeLessThanOrEqual(honest);
      expect(total(count, true)).toBeLessThan(honest);
    }
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
        const next = nextBasis(basis, { gflops: measuredGflops(N, reps, Math.round(own * 1000), coordinatorUs), coordinatorUs, rttUs: 80_000 }, S);
        credit = roundCredit(N, reps, Math.round(own * 1000), basis, next, S, 80_000);
        basis = next;
      }
      expect(basis.measured).toBe(true);
      return credit / gpu;
    });
    for (const share of shares) expect(share).toBeCloseTo(4.42 / 5, 3);
  });
});
