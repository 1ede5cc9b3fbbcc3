/**
 * Penalties (DESIGN §8). A failed PoT check slashes `failedCheckSlashPpm` of
 * stake, a job result that fails its audit `incorrectResultSlashPpm`; both
 * grow with the share of all stake failing in the same epoch (the
 * correlation penalty: one node's fault is forgiven more than many nodes
 * failing together, as Ethereum does). A missed challenge deadline is a
 * failure without a slash. Proven fraud slashes all stake, forfeits unvested
 * credits, sets reputation to 0 and bans the node. Slashed and forfeited
 * credits are burned.
 */
import type { EpochChecks } from './capacity.js';
import type { FraudProof } from './facts.js';
import { mulDivCeil, mulDivFloor } from './math.js';
import { PPM, type RewardParams } from './params.js';
import type { PenaltyLine } from './result.js';

/** Share of all stake held by failing nodes, ppm; 0 when nobody stakes. */
export function failingFractionPpm(failingStake: number, totalStake: number): number {
  return totalStake === 0 ? 0 : mulDivFloor(failingStake, PPM, totalStake);
}

/** p + (1 - p) * min(1, multiplier * f), in ppm. */
export function correlatedSlashPpm(basePpm: number, failingPpm: number, params: Pick<RewardParams, 'correlationMultiplier'>): number {
  const boost = Math.min(PPM, params.correlationMultiplier * failingPpm);
  return basePpm + mulDivFloor(PPM - basePpm, boost, PPM);
}

export interface Slash {
  after: number;
  slashed: number;
}

/** `events` slashes of `ppm` each, every one taken from what is left and rounded up (splitting stake across identities never lowers a slash). */
export function slashRepeatedly(stake: number, events: number, ppm: number): Slash {
  let left = stake;
  for (let i = 0; i < events && left > 0; i++) left -= Math.min(left, mulDivCeil(left, ppm, PPM));
  return { after: left, slashed: stake - left };
}

/** An epoch counts as reliable (1) when the node had uptime and failed, missed and botched nothing. */
export function isReliable(coveredMs: number, checks: EpochChecks, failedAudits: number, fraud: boolean, params: Pick<RewardParams, 'epochMs' | 'uptimeThresholdPpm'>): boolean {
  return !fraud && checks.failed === 0 && checks.missed === 0 && failedAudits === 0 && coveredMs * PPM >= params.uptimeThresholdPpm * params.epochMs;
}

export interface Offences {
  stake: number;
  checks: EpochChecks;
  failedAudits: number;
  fraud: readonly FraudProof[];
  unvested: number;
  refundedFees: number;
  coveredMs: number;
}

/** One node's penalty lines for the epoch, in the order they apply, and the stake left after them. */
export function penaltyLines(o: Offences, fractions: { checkPpm: number; resultPpm: number }, params: Pick<RewardParams, 'epochMs' | 'uptimeThresholdPpm'>): { lines: PenaltyLine[]; stakeAfter: number } {
  const lines: PenaltyLine[] = [];
  const fraud = o.fraud.length > 0;
  let stake = o.stake;
  if (o.checks.failed > 0) {
    const s = slashRepeatedly(stake, o.checks.failed, fractions.checkPpm);
    stake = s.after;
    lines.push({ kind: 'failed-check', count: o.checks.failed, slashed: s.slashed, forfeited: 0, refunded: 0, slashPpm: fractions.checkPpm, note: 'PoT check failed: stake slashed, V is 0 until a new challenge passes, the epoch counts 0 for reputation' });
  }
  if (o.checks.missed > 0) {
    lines.push({ kind: 'missed-challenge', count: o.checks.missed, slashed: 0, forfeited: 0, refunded: 0, slashPpm: 0, note: 'challenge deadline missed: a failure without a slash; V is 0 until a new challenge passes' });
  }
  if (o.failedAudits > 0) {
    const s = slashRepeatedly(stake, o.failedAudits, fractions.resultPpm);
    stake = s.after;
    // Under a fraud proof every fee is refunded; the fraud line says so.
    lines.push({ kind: 'incorrect-result', count: o.failedAudits, slashed: s.slashed, forfeited: 0, refunded: fraud ? 0 : o.refundedFees, slashPpm: fractions.resultPpm, note: 'job result failed its audit: fee refunded, stake slashed' });
  }
  if (fraud) {
    const what = o.fraud.map((x) => `${x.kind}: ${x.evidence}`).join('; ');
    lines.push({ kind: 'fraud', count: o.fraud.length, slashed: stake, forfeited: o.unvested, refunded: o.refundedFees, slashPpm: PPM, note: `proven fraud (${what}): all stake slashed, unvested credits forfeited, reputation 0, banned` });
    stake = 0;
  }
  if (o.coveredMs * PPM < params.uptimeThresholdPpm * params.epochMs) {
    lines.push({ kind: 'downtime', count: 1, slashed: 0, forfeited: 0, refunded: 0, slashPpm: 0, note: `uptime below ${params.uptimeThresholdPpm / 10_000}%: no capacity reward, the epoch counts 0 for reputation` });
  }
  return { lines, stakeAfter: stake };
}
