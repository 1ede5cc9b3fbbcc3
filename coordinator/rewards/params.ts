/**
 * Every number the incentive engine uses (DESIGN §8), in one object with a
 * default for each, so a coordinator's operator can override any of them
 * and an explanation can cite the value that was in force.
 *
 * All values are integers: money in micro-credits, fractions in parts per
 * million (ppm), reputation in parts per 10^12, times in milliseconds. Nothing
 * that decides money is a float.
 */
import { z } from 'zod';
import { CapanodeError } from '../../common/errors.js';

/** One part per million: fractions are integers in [0, PPM]. */
export const PPM = 1_000_000;
/** Reputation is an integer in [0, REP_ONE]: fine enough that a 14-day half-life composes to within 4e-10. */
export const REP_ONE = 1_000_000_000_000;
/** One credit in micro-credits. */
export const CREDIT = 1_000_000;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.number().int('must be an integer').min(min).max(max);
const ppm = int(0, PPM);

export const RewardParamsSchema = z.strictObject({
  /** Epoch length. */
  epochMs: int(60_000, 30 * DAY),
  /** New credits minted into each epoch's budget. */
  emissionPerEpoch: int(0, 1e15),
  /** Share of a job's fee paid to the node that ran it; the rest goes to the epoch's budget (90% / 10%). */
  feeToNodePpm: ppm,
  /** B_work = clamp(floor + slope * utilisation, floor, ceil) * B. */
  workFloorPpm: ppm,
  workSlopePpm: ppm,
  workCeilPpm: ppm,
  /**
   * Most a node's work share can be, per micro-credit of its own accepted fees.
   * Must not exceed (fee cut) x (work floor), 10% x 20% = 2% by default:
   * that bound is what makes self-dealt jobs lose money (docs/INCENTIVES.md).
   */
  workShareCapPpm: ppm,
  /** g(u) = 0 below this uptime, u^2 above. */
  uptimeThresholdPpm: ppm,
  /** kappa: stake (micro-credits) needed per GFLOP/s of verified capacity; 0 = no stake required. */
  stakePerGflops: int(0, 1e9),
  /** Verified capacity V = median of the last this-many PoT verdicts. */
  capacityWindow: int(1, 99).refine((n) => n % 2 === 1, 'must be odd, so the median is one verdict'),
  /** The agent's uptime attestation interval. */
  heartbeatMs: int(1_000, HOUR),
  /** Each uptime attestation is credited for at most this many heartbeat intervals. */
  creditHeartbeats: int(1, 100),
  /** An attestation counts only if its beacon was at most this old when the coordinator received it. */
  beaconFreshMs: int(1_000, DAY),
  /** Reputation half-life: after this long, the weight of the old value is exactly one half. */
  reputationHalfLifeMs: int(60_000, 3650 * DAY),
  /** Reputation of a node the coordinator has not seen before. */
  newNodeReputation: int(0, REP_ONE),
  /** Stake slashed by one failed PoT check, before the correlation penalty. */
  failedCheckSlashPpm: ppm,
  /** Stake slashed by one job result that failed its audit, before the correlation penalty. */
  incorrectResultSlashPpm: ppm,
  /**
   * Correlation penalty, as Ethereum's: with f the share of all stake held by
   * nodes failing in the same epoch, each slash fraction p becomes
   * p + (1 - p) * min(1, multiplier * f).
   */
  correlationMultiplier: int(0, 1_000),
  /** Vesting: this share of an epoch's earnings is claimable at once ... */
  vestImmediatePpm: ppm,
  /** ... and the rest vests linearly over this long. */
  vestingMs: int(0, 3650 * DAY),
});

export type RewardParams = Readonly<z.infer<typeof RewardParamsSchema>>;

export const DEFAULT_REWARD_PARAMS: RewardParams = Object.freeze({
  epochMs: HOUR,
  emissionPerEpoch: 1_000 * CREDIT,
  feeToNodePpm: 900_000,
  workFloorPpm: 200_000,
  workSlopePpm: 600_000,
  workCeilPpm: 800_000,
  workShareCapPpm: 20_000,
  uptimeThresholdPpm: 500_000,
  stakePerGflops: 0,
  capacityWindow: 5,
  heartbeatMs: 30_000,
  creditHeartbeats: 2,
  beaconFreshMs: 120_000,
  reputationHalfLifeMs: 14 * DAY,
  newNodeReputation: REP_ONE / 2,
  failedCheckSlashPpm: 100_000,
  incorrectResultSlashPpm: 100_000,
  correlationMultiplier: 3,
  vestImmediatePpm: 250_000,
  vestingMs: 30 * DAY,
});

/** Rules that tie parameters together; each names the keys involved. */
function crossChecks(p: RewardParams): string[] {
  const problems: string[] = [];
  if (p.workFloorPpm > p.workCeilPpm) problems.push(`workFloorPpm (${p.workFloorPpm}) must not exceed workCeilPpm (${p.workCeilPpm})`);
  const feeCutPpm = PPM - p.feeToNodePpm;
  // cap <= cut * floor, in ppm: see workShareCapPpm above.
  if (BigInt(p.workShareCapPpm) * BigInt(PPM) > BigInt(feeCutPpm) * BigInt(p.workFloorPpm)) {
    const most = Math.floor((feeCutPpm * p.workFloorPpm) / PPM);
    problems.push(
      `workShareCapPpm (${p.workShareCapPpm}) exceeds (1e6 - feeToNodePpm) * workFloorPpm / 1e6 = ${most}: a node could then earn more from self-dealt jobs than their fees cost`,
    );
  }
  return problems;
}

const validated = new WeakSet<object>();

/**
 * The defaults with the operator's overrides applied, checked. Unknown keys
 * and bad values are errors naming the key; `source` (a file name, "flags")
 * says where they came from.
 */
export function resolveRewardParams(overrides: unknown = {}, source = 'reward parameters'): RewardParams {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new CapanodeError('reward-params-invalid', `${source} must be one JSON object of parameter overrides`, {
      hint: 'Example: {"emissionPerEpoch":500000000,"stakePerGflops":100}',
    });
  }
  const parsed = RewardParamsSchema.safeParse({ ...DEFAULT_REWARD_PARAMS, ...overrides });
  const problems = parsed.success
    ? crossChecks(parsed.data)
    : parsed.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `unknown parameter(s) ${i.keys.join(', ')}` : `${i.path.join('.')}: ${i.message}`));
  if (!parsed.success || problems.length > 0) {
    throw new CapanodeError('reward-params-invalid', `invalid ${source}:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix or remove the parameters named above; docs/INCENTIVES.md lists each with its default.',
      details: { problems },
    });
  }
  const params = Object.freeze(parsed.data);
  validated.add(params);
  return params;
}

/** Checks a params object once (the engine calls this on every epoch; repeated calls are free). */
export function checkRewardParams(params: RewardParams): RewardParams {
  if (validated.has(params)) return params;
  const checked = resolveRewardParams(params);
  validated.add(params);
  return checked;
}

validated.add(DEFAULT_REWARD_PARAMS);
