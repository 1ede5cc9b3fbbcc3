/** The incentive engine (DESIGN §8): pure functions from an epoch's verified facts to payouts. */
export { CREDIT, DEFAULT_REWARD_PARAMS, PPM, REP_ONE, RewardParamsSchema, checkRewardParams, resolveRewardParams, type RewardParams } from './params.js';
export {
  EpochInputSchema,
  FraudProofSchema,
  JobFactSchema,
  NodeEpochFactsSchema,
  NodeIdSchema,
  VerdictFactSchema,
  parseEpochInput,
  type EpochInput,
  type FraudProof,
  type JobFact,
  type NodeEpochFacts,
  type VerdictFact,
} from './facts.js';
export { computeEpoch } from './payout.js';
export type { EpochResult, NodePayout, PenaltyKind, PenaltyLine } from './result.js';
export { credits, explainPayout } from './explain.js';
export { coveredMs, isFresh, uptimePpm, type UptimeAttestation } from './uptime.js';
export { epochChecks, sortVerdicts, verifiedCapacity, type Capacity, type EpochChecks } from './capacity.js';
export { DECAY_BITS, DECAY_ONE, reputationDecay, startingReputation, updateReputation } from './reputation.js';
export { collateralised, score, stakeNeeded, uptimeWeight } from './score.js';
export { apportion, largestRemainder, type Apportionment, type Quota } from './split.js';
export { correlatedSlashPpm, failingFractionPpm, isReliable, penaltyLines, slashRepeatedly, type Offences, type Slash } from './penalties.js';
export { unvestedTotal, vestedAmount, vestedTotal, type Grant } from './vesting.js';
export { clamp, decimal, lowerMedian, mulDivCeil, mulDivFloor } from './math.js';
