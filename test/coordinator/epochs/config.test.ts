/** The coordinator's epoch and reward settings: defaults, overrides from files and flags, and what is refused. */
import { describe, expect, it } from 'vitest';
import { DEVNET_COORDINATOR_CONFIG } from '../../../agent/devnet.js';
import { loadCoordinatorConfig, parseFlagValue, rewardParamsOf } from '../../../coordinator/config.js';
import { DEFAULT_REWARD_PARAMS } from '../../../coordinator/rewards/index.js';
import { thrown } from '../../helpers/errors.js';

describe('epoch and reward settings', () => {
  it('default to hourly epochs on the hour, 1000 credits each, closed a minute after the boundary', () => {
    const c = loadCoordinatorConfig();
    expect(c).toMatchObject({ epochMs: 3_600_000, epochAligned: true, epochCloseDelayMs: 60_000, emissionPerEpoch: 1_000_000_000, rewardParams: {} });
    // Beacons every minute: a beacon counts as fresh for two of them.
    expect(rewardParamsOf(c)).toEqual({ ...DEFAULT_REWARD_PARAMS, beaconFreshMs: 120_000 });
  });

  it('take reward parameter overrides as an object or as JSON text from a flag', () => {
    const fromFlag = loadCoordinatorConfig({ overrides: { rewardParams: parseFlagValue('{"stakePerGflops":100,"beaconFreshMs":30000}'), beaconIntervalMs: 10_000 } });
    expect(rewardParamsOf(fromFlag)).toMatchObject({ stakePerGflops: 100, beaconFreshMs: 30_000 });
    expect(rewardParamsOf(loadCoordinatorConfig({ overrides: { beaconIntervalMs: 10_000 } })).beaconFreshMs).toBe(20_000);
    expect(rewardParamsOf(loadCoordinatorConfig({ overrides: { epochMs: 120_000, emissionPerEpoch: 5 } }))).toMatchObject({ epochMs: 120_000, emissionPerEpoch: 5 });
  });

  it('refuse unknown or bad reward parameters, and epochMs or emissionPerEpoch inside rewardParams, naming each', () => {
    const e = thrown(() => loadCoordinatorConfig({ overrides: { rewardParams: { nope: 1, workShareCapPpm: 900_000, epochMs: 60_000 } } }));
    expect(e.code).toBe('config-invalid');
    expect(e.message).toMatch(/--reward-params: set epochMs as its own setting/);
    expect(e.message).toMatch(/unknown parameter\(s\) nope/);
    expect(thrown(() => loadCoordinatorConfig({ overrides: { rewardParams: '{not json' } })).message).toMatch(/--reward-params: must be a JSON object/);
    expect(thrown(() => loadCoordinatorConfig({ overrides: { epochMs: 1_000 } })).message).toMatch(/--epoch-ms/);
    expect(thrown(() => loadCoordinatorConfig({ overrides: { rewardParams: { workShareCapPpm: 900_000 } } })).message).toMatch(/workShareCapPpm \(900000\) exceeds/);
  });

  it('the devnet runs one-minute epochs from its first start', () => {
    const c = loadCoordinatorConfig({ overrides: { ...DEVNET_COORDINATOR_CONFIG } });
    expect(c).toMatchObject({ epochMs: 60_000, epochAligned: false, epochCloseDelayMs: 10_000 });
    expect(rewardParamsOf(c)).toMatchObject({ epochMs: 60_000, emissionPerEpoch: 10_000_000, vestingMs: 3_600_000, beaconFreshMs: 10_000 });
  });
});
