/**
 * Reputation half-life: per epoch rho' = rho * d + r * (1 - d) with
 * d = 2^(-epochMs / halfLifeMs). After N = halfLife / epochMs epochs the old
 * value weighs d^N = 1/2: the integer D the engine uses is checked to be
 * floor(2^53 * 2^(-1/N)) exactly, and N updates land on the exact half to
 * within the per-epoch rounding (half a part in 10^12 each).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECAY_BITS, DEFAULT_REWARD_PARAMS, REP_ONE, reputationDecay, startingReputation, updateReputation } from '../../../coordinator/rewards/index.js';

const P = DEFAULT_REWARD_PARAMS;

function run(rho: number, reliable: boolean, epochs: number, params = P): number {
  let r = rho;
  for (let i = 0; i < epochs; i++) r = updateReputation(r, reliable, params);
  return r;
}

describe('reputation decay constant', () => {
  it('D is floor(2^53 * 2^(-1/N)): D^N <= 2^(53N - 1) < (D + 1)^N, for whole-epoch half-lives', () => {
    for (const [epochMs, n] of [[3_600_000, 336], [7 * 3_600_000, 48], [60_000, 1440], [3_600_000, 1], [86_400_000, 14]] as const) {
      const d = reputationDecay({ epochMs, reputationHalfLifeMs: epochMs * n });
      const bits = DECAY_BITS * BigInt(n) - 1n;
      expect(d ** BigInt(n) <= 1n << bits).toBe(true);
      expect((d + 1n) ** BigInt(n) > 1n << bits).toBe(true);
    }
  });

  it('an epoch as long as two half-lives decays by exactly a quarter', () => {
    expect(reputationDecay({ epochMs: 7_200_000, reputationHalfLifeMs: 3_600_000 })).toBe(1n << (DECAY_BITS - 2n));
  });
});

describe('reputation half-life (14 days of 1-hour epochs = 336 epochs)', () => {
  const N = P.reputationHalfLifeMs / P.epochMs;

  it('after one half-life the old value weighs exactly one half: rho_N = r + (rho_0 - r) / 2, within N/2 parts in 10^12', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: REP_ONE }), fc.boolean(), (rho0, reliable) => {
        const r = reliable ? REP_ONE : 0;
        expect(N).toBe(336);
        const after = run(rho0, reliable, N);
        expect(Math.abs(after - (r + (rho0 - r) / 2))).toBeLessThanOrEqual(N / 2);
        const twice = run(rho0, reliable, 2 * N);
        expect(Math.abs(twice - (r + (rho0 - r) / 4))).toBeLessThanOrEqual(N);
      }),
      { numRuns: 40 },
    );
  });

  it('stays in [0, 1]; always-reliable stays at 1 and never-reliable at 0 exactly', () => {
    expect(run(REP_ONE, true, 50)).toBe(REP_ONE);
    expect(run(0, false, 50)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: REP_ONE }), fc.boolean(), (rho, ok) => {
        const next = updateReputation(rho, ok, P);
        expect(next).toBeGreaterThanOrEqual(0);
        expect(next).toBeLessThanOrEqual(REP_ONE);
        if (ok) expect(next).toBeGreaterThanOrEqual(rho);
        else expect(next).toBeLessThanOrEqual(rho);
      }),
    );
  });

  it('a new node starts at 0.5', () => {
    expect(startingReputation(null, P)).toBe(REP_ONE / 2);
    expect(startingReputation(7, P)).toBe(7);
  });
});
