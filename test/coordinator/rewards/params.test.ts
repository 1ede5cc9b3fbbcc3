import { describe, expect, it } from 'vitest';
import { DEFAULT_REWARD_PARAMS, resolveRewardParams } from '../../../coordinator/rewards/index.js';
import { thrown } from '../../helpers/errors.js';

describe('reward parameters', () => {
  it('defaults are DESIGN §8\'s numbers', () => {
    expect(DEFAULT_REWARD_PARAMS).toMatchObject({
      epochMs: 3_600_000,
      feeToNodePpm: 900_000,
      workFloorPpm: 200_000,
      workSlopePpm: 600_000,
      workCeilPpm: 800_000,
      uptimeThresholdPpm: 500_000,
      stakePerGflops: 0,
      capacityWindow: 5,
      reputationHalfLifeMs: 14 * 86_400_000,
      newNodeReputation: 500_000_000_000,
      failedCheckSlashPpm: 100_000,
      vestImmediatePpm: 250_000,
      vestingMs: 30 * 86_400_000,
    });
    expect(resolveRewardParams({})).toEqual(DEFAULT_REWARD_PARAMS);
  });

  it('applies overrides and checks them, naming every problem', () => {
    expect(resolveRewardParams({ stakePerGflops: 100 }).stakePerGflops).toBe(100);
    const e = thrown(() => resolveRewardParams({ emissionPerEpoch: 1.5, bogus: 1, workFloorPpm: 900_000 }));
    expect(e.code).toBe('reward-params-invalid');
    expect(e.message).toContain('emissionPerEpoch');
    expect(e.message).toContain('bogus');
    expect(e.hint).toContain('INCENTIVES.md');
    expect(thrown(() => resolveRewardParams([])).code).toBe('reward-params-invalid');
  });

  it('refuses a work share cap that would make self-dealt jobs pay', () => {
    const e = thrown(() => resolveRewardParams({ workShareCapPpm: 20_001 }));
    expect(e.message).toContain('self-dealt');
    // A larger fee cut allows a larger cap: 20% x 20% = 4%.
    expect(resolveRewardParams({ feeToNodePpm: 800_000, workShareCapPpm: 40_000 }).workShareCapPpm).toBe(40_000);
  });

  it('refuses an even capacity window (the median must be one verdict)', () => {
    expect(thrown(() => resolveRewardParams({ capacityWindow: 4 })).message).toContain('odd');
  });
});
