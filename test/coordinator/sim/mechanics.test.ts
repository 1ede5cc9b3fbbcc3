/** The detection mechanics each strategy meets, one by one. */
import { describe, expect, it } from 'vitest';
import { coveredMs, DEFAULT_REWARD_PARAMS } from '../../../coordinator/rewards/index.js';
import { attestations, audit, challenge, shares, withOutage } from '../../../coordinator/sim/mechanics.js';
import { DEFAULT_MECHANICS, Prng } from '../../../coordinator/sim/index.js';
import type { EpochConduct, IdentitySpec, PotConduct } from '../../../coordinator/sim/types.js';

const M = DEFAULT_MECHANICS;
const E = DEFAULT_REWARD_PARAMS.epochMs;
const full: EpochConduct = { link: [[0, E]], gpu: [[0, E]], answersWhileAway: false, backfill: false, pot: { kind: 'honest' }, forgeJobs: false, selfDealFees: 0 };
const gpu: IdentitySpec = { group: 0, groupGflops: 300_000, claimedGflops: 300_000, stake: 0 };

function passRate(pot: PotConduct, n = 4000): { rate: number; gflops: number } {
  const rng = new Prng(5);
  let passed = 0;
  let gflops = 0;
  for (let i = 0; i < n; i++) {
    const v = challenge({ identity: gpu, conduct: { ...full, pot }, at: 1000, available: 300_000, time: 1 }, M, rng);
    if (v.outcome === 'pass') {
      passed++;
      gflops = v.gflops;
    }
  }
  return { rate: passed / n, gflops };
}

describe('PoT challenges under the rounds and independent schedules', () => {
  it('an honest node passes and shows its real throughput', () => {
    expect(passRate({ kind: 'honest' })).toEqual({ rate: 1, gflops: 300_000 });
  });

  it('skipping a fraction f of the work passes with probability (1 - f)^16 and looks 1/(1 - f) faster', () => {
    const r = passRate({ kind: 'skip', fraction: 0.05 });
    expect(Math.abs(r.rate - 0.95 ** 16)).toBeLessThan(0.03);
    expect(r.gflops).toBe(Math.floor(300_000 / 0.95));
  });

  it('a full precision downgrade never passes the exact digests; replayed roots never match a fresh seed', () => {
    expect(passRate({ kind: 'downgrade', fraction: 1 }).rate).toBe(0);
    expect(passRate({ kind: 'replay' }).rate).toBe(0);
  });

  it('shows what its computation got from the GPU', () => {
    const v = challenge({ identity: { ...gpu, claimedGflops: 100_000 }, conduct: full, at: 5, available: 100_000, time: 1 }, M, new Prng(1));
    expect(v).toEqual({ time: 1, outcome: 'pass', gflops: 100_000 });
  });

  it('a GPU far slower than claimed misses the deadline; an offline node misses the challenge', () => {
    expect(challenge({ identity: { ...gpu, claimedGflops: 300_000 * 25 }, conduct: full, at: 5, available: 300_000, time: 1 }, M, new Prng(1)).outcome).toBe('missed');
    expect(challenge({ identity: gpu, conduct: { ...full, link: [[0, 10]], gpu: [[0, 10]] }, at: 50, available: 300_000, time: 1 }, M, new Prng(1)).outcome).toBe('missed');
    // Link up, GPU elsewhere: missed, unless it preempts that work to answer.
    const away = { ...full, gpu: [] };
    expect(challenge({ identity: gpu, conduct: away, at: 50, available: 300_000, time: 1 }, M, new Prng(1)).outcome).toBe('missed');
    expect(challenge({ identity: gpu, conduct: { ...away, answersWhileAway: true }, at: 50, available: 300_000, time: 1 }, M, new Prng(1)).outcome).toBe('pass');
  });
});

describe('one GPU behind several identities', () => {
  const three = [0, 1, 2].map(() => ({ work: 500, at: 1000 }));

  it('rounds with work / elapsed: run one after another, they show 1 + 1/2 + 1/3 of the GPU, the order rotating', () => {
    expect(shares(300, three, 'rounds', 0, M)).toEqual([300, 150, 100]);
    expect(shares(300, three, 'rounds', 1, M)).toEqual([100, 300, 150]);
  });

  it('independent instants: each shows the whole GPU unless their challenges overlap', () => {
    expect(shares(300, [{ work: 1, at: 0 }, { work: 1, at: 60_000 }, { work: 1, at: 2_000 }], 'independent', 0, M)).toEqual([150, 300, 150]);
  });

  it('a lone identity shows its GPU under every schedule', () => {
    for (const s of ['rounds', 'independent'] as const) expect(shares(300, [{ work: 9, at: 5 }], s, 3, M)).toEqual([300]);
  });
});

describe('uptime attestations through the real coverage function', () => {
  it('online all epoch: fully covered; an outage: not covered', () => {
    expect(coveredMs(attestations(full, M), 0, DEFAULT_REWARD_PARAMS)).toBe(E);
    const up = withOutage(E, 600_000, 1_800_000);
    expect(coveredMs(attestations({ ...full, link: up }, M), 0, DEFAULT_REWARD_PARAMS)).toBe(E - 1_200_000);
  });

  it('attestations backfilled for a gap with an old beacon are not credited', () => {
    const link = [[0, 900_000], [2_700_000, E]] as const;
    const honest = coveredMs(attestations({ ...full, link: [...link] }, M), 0, DEFAULT_REWARD_PARAMS);
    const backfilled = attestations({ ...full, link: [...link], backfill: true }, M);
    expect(backfilled.length).toBeGreaterThan(attestations({ ...full, link: [...link] }, M).length);
    expect(coveredMs(backfilled, 0, DEFAULT_REWARD_PARAMS)).toBe(honest);
    expect(honest).toBe(900_000 + E - 2_700_000);
  });
});

describe('audits', () => {
  it('sample about one job in ten; a forged result fails when sampled', () => {
    const rng = new Prng(3);
    const outcomes = Array.from({ length: 5000 }, () => audit(true, M, rng));
    const failed = outcomes.filter((o) => o === 'failed').length;
    expect(outcomes.includes('passed')).toBe(false);
    expect(Math.abs(failed / 5000 - 0.1)).toBeLessThan(0.02);
    expect(Array.from({ length: 200 }, () => audit(false, M, rng)).includes('failed')).toBe(false);
  });
});
