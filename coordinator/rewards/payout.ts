/**
 * One epoch's payouts from its verified facts (DESIGN §8):
 *
 *   B       = emission + carry-in + 10% of accepted job fees
 *   B_work  = clamp(0.2 + 0.6 * utilisation, 0.2, 0.8) * B,   B_avail = B - B_work
 *   work_i  = min(B_work * W_i / sum(W), cap * W_i)           work share, pro rata to fees, capped
 *   cap_i   = (B - sum(work)) * score_i / sum(score)           capacity: B_avail and the unclaimed B_work
 *   pay_i   = cap_i + work_i + 90% of W_i
 *
 * The capacity and work quotas are exact rationals, added per node and
 * apportioned together by largest remainder (ties to the smaller node id):
 * each node's pooled share is within one micro-credit of its exact quota and
 * the shares add up exactly. What no one earns (the whole budget when no node
 * scores, and the fraction of a micro-credit left by the floor) is carried to
 * the next epoch. A pure function: the same facts in any order give the same
 * result, and every number an operator needs to check a payout is in it.
 */
import { epochChecks, verifiedCapacity, type EpochChecks } from './capacity.js';
import { parseEpochInput, type EpochInput, type NodeEpochFacts } from './facts.js';
import { clamp, decimal, mulDivFloor } from './math.js';
import { checkRewardParams, DEFAULT_REWARD_PARAMS, PPM, type RewardParams } from './params.js';
import { correlatedSlashPpm, failingFractionPpm, isReliable, penaltyLines } from './penalties.js';
import type { EpochResult, NodePayout } from './result.js';
import { startingReputation, updateReputation } from './reputation.js';
import { collateralised, score, stakeNeeded, uptimeWeight } from './score.js';
import { largestRemainder } from './split.js';
import { uptimePpm } from './uptime.js';

interface Working {
  f: NodeEpochFacts;
  checks: EpochChecks;
  capacity: ReturnType<typeof verifiedCapacity>;
  fraud: boolean;
  failedAudits: number;
  acceptedFees: number;
  acceptedJobs: number;
  refundedFees: number;
  rho: number;
}

function byNode(a: NodeEpochFacts, b: NodeEpochFacts): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

function gather(f: NodeEpochFacts, startMs: number, endMs: number, params: RewardParams): Working {
  const fraud = f.fraud.length > 0;
  let failedAudits = 0;
  let acceptedFees = 0;
  let acceptedJobs = 0;
  let refundedFees = 0;
  for (const j of f.jobs) {
    if (j.audit === 'failed') failedAudits++;
    if (fraud || j.audit === 'failed') refundedFees += j.fee;
    else {
      acceptedFees += j.fee;
      acceptedJobs++;
    }
  }
  return {
    f,
    checks: epochChecks(f.verdicts, startMs, endMs),
    capacity: verifiedCapacity(f.verdicts, params.capacityWindow),
    fraud,
    failedAudits,
    acceptedFees,
    acceptedJobs,
    refundedFees,
    rho: startingReputation(f.reputation, params),
  };
}

/**
 * Computes an epoch. `input` is checked (parseEpochInput) and may come from
 * JSON; the result is plain JSON too (big numbers as decimal strings).
 */
export function computeEpoch(input: EpochInput, params: RewardParams = DEFAULT_REWARD_PARAMS): EpochResult {
  const p = checkRewardParams(params);
  const checked = parseEpochInput(input, p);
  const startMs = checked.epoch.startMs;
  const endMs = startMs + p.epochMs;
  const nodes = [...checked.nodes].sort(byNode).map((f) => gather(f, startMs, endMs, p));

  // Penalties first: the score counts only the stake left after this epoch's slashes.
  let totalStake = 0;
  let failingStake = 0;
  for (const w of nodes) {
    totalStake += w.f.stake;
    if (w.fraud || w.checks.failed > 0 || w.failedAudits > 0) failingStake += w.f.stake;
  }
  const failingPpm = failingFractionPpm(failingStake, totalStake);
  const checkPpm = correlatedSlashPpm(p.failedCheckSlashPpm, failingPpm, p);
  const resultPpm = correlatedSlashPpm(p.incorrectResultSlashPpm, failingPpm, p);

  const penalised = nodes.map((w) =>
    penaltyLines({ stake: w.f.stake, checks: w.checks, failedAudits: w.failedAudits, fraud: w.f.fraud, unvested: w.f.unvested, refundedFees: w.refundedFees, coveredMs: w.f.coveredMs }, { checkPpm, resultPpm }, p),
  );
  const stakeAfter = penalised.map((x) => x.stakeAfter);
  const penalties = penalised.map((x) => x.lines);

  // Scores and the budget.
  const scores = nodes.map((w, i) => (w.fraud ? 0n : score(w.rho, w.f.coveredMs, w.capacity.gflops, stakeAfter[i] ?? 0, p)));
  const scoreSum = scores.reduce((s, x) => s + x, 0n);
  const feeReturns = nodes.map((w) => mulDivFloor(w.acceptedFees, p.feeToNodePpm, PPM));
  let acceptedFees = 0;
  let refundedFees = 0;
  let feeReturnSum = 0;
  let busyNum = 0n;
  let busyDen = 0n;
  nodes.forEach((w, i) => {
    acceptedFees += w.acceptedFees;
    refundedFees += w.refundedFees;
    feeReturnSum += feeReturns[i] ?? 0;
    if (w.fraud) return;
    const v = BigInt(w.capacity.gflops);
    busyNum += v * BigInt(Math.min(w.f.busyMs, w.f.coveredMs));
    busyDen += v * BigInt(w.f.coveredMs);
  });
  const feeCut = acceptedFees - feeReturnSum;
  const total = p.emissionPerEpoch + checked.carryIn + feeCut;
  const utilisationPpm = busyDen === 0n ? 0 : Number((busyNum * BigInt(PPM)) / busyDen);
  const workFractionPpm = clamp(p.workFloorPpm + mulDivFloor(p.workSlopePpm, utilisationPpm, PPM), p.workFloorPpm, p.workCeilPpm);
  const work = mulDivFloor(total, workFractionPpm, PPM);
  const avail = total - work;

  // Work quotas: min(work * W / sumW, cap * W), pro rata either way. With valid params the cap always binds
  // (cap <= fee cut * work floor <= B_work / sumW), so a work share is a fixed rebate on accepted fees.
  const capped = BigInt(work) * BigInt(PPM) >= BigInt(p.workShareCapPpm) * BigInt(acceptedFees);
  const workDen = acceptedFees === 0 ? 1n : capped ? BigInt(PPM) : BigInt(acceptedFees);
  const workRate = acceptedFees === 0 ? 0n : capped ? BigInt(p.workShareCapPpm) : BigInt(work);
  const workNum = nodes.map((w) => workRate * BigInt(w.acceptedFees));
  const workQuotaSum = workNum.reduce((s, x) => s + x, 0n);
  // Capacity pot: B_avail plus the part of B_work no work share claimed, split by score. Nothing is
  // carried while someone scores (docs/INCENTIVES.md: why not carry the unclaimed work pot).
  const capacityPotNum = BigInt(total) * workDen - workQuotaSum; // over workDen
  const den = scoreSum === 0n ? workDen : workDen * scoreSum;
  const capNum = scores.map((s) => (scoreSum === 0n ? 0n : capacityPotNum * s)); // over den
  const split = largestRemainder(
    nodes.map((w, i) => ({ id: w.f.node, num: (capNum[i] ?? 0n) + (workNum[i] ?? 0n) * (scoreSum === 0n ? 1n : scoreSum) })),
    den,
  );
  const pooled = split.total;

  let slashedSum = 0;
  let forfeitedSum = 0;
  let payoutSum = 0;
  const out: NodePayout[] = nodes.map((w, i) => {
    const lines = penalties[i] ?? [];
    const slashed = lines.reduce((s, l) => s + l.slashed, 0);
    const forfeited = lines.reduce((s, l) => s + l.forfeited, 0);
    const pooledShare = split.amounts[i] ?? 0;
    const feeReturn = feeReturns[i] ?? 0;
    const reliable = isReliable(w.f.coveredMs, w.checks, w.failedAudits, w.fraud, p);
    const s = scores[i] ?? 0n;
    const stake = stakeAfter[i] ?? 0;
    slashedSum += slashed;
    forfeitedSum += forfeited;
    payoutSum += pooledShare + feeReturn;
    return {
      node: w.f.node,
      payout: pooledShare + feeReturn,
      parts: {
        capacity: decimal(capNum[i] ?? 0n, den),
        work: decimal(workNum[i] ?? 0n, workDen),
        pooled: pooledShare,
        extraMicro: split.extra[i] ?? false,
        feeReturn,
      },
      facts: {
        coveredMs: w.f.coveredMs,
        uptimePpm: uptimePpm(w.f.coveredMs, p),
        busyMs: Math.min(w.f.busyMs, w.f.coveredMs),
        capacityGflops: w.capacity.gflops,
        capacityWindow: w.capacity.window,
        capacityZeroBecause: w.capacity.zeroBecause,
        checks: w.checks,
        acceptedFees: w.acceptedFees,
        acceptedJobs: w.acceptedJobs,
        refundedFees: w.refundedFees,
        stake: w.f.stake,
        reputation: w.rho,
        newNode: w.f.reputation === null,
      },
      score: {
        uptimeWeightPpm: Number((uptimeWeight(w.f.coveredMs, p) * BigInt(PPM)) / (BigInt(p.epochMs) * BigInt(p.epochMs))),
        stakeNeeded: stakeNeeded(w.capacity.gflops, p),
        collateralisedGflops: decimal(collateralised(w.capacity.gflops, stake, p), BigInt(Math.max(1, p.stakePerGflops))),
        value: s.toString(),
        sharePpm: scoreSum === 0n ? 0 : Number((s * BigInt(PPM)) / scoreSum),
      },
      penalties: lines,
      reliable,
      reputationAfter: w.fraud ? 0 : updateReputation(w.rho, reliable, p),
      stakeAfter: stake,
      slashed,
      forfeited,
      banned: w.fraud,
    };
  });

  return {
    epoch: { index: checked.epoch.index, startMs, endMs },
    budget: {
      emission: p.emissionPerEpoch,
      carryIn: checked.carryIn,
      feeCut,
      total,
      utilisationPpm,
      workFractionPpm,
      work,
      avail,
      workQuotas: decimal(workQuotaSum, workDen),
      capacityPot: scoreSum === 0n ? '0.000000' : decimal(capacityPotNum, workDen),
      pooled,
      carryOut: total - pooled,
    },
    totals: {
      payouts: payoutSum,
      feeReturns: feeReturnSum,
      acceptedFees,
      refundedFees,
      slashed: slashedSum,
      forfeited: forfeitedSum,
      burned: slashedSum + forfeitedSum,
    },
    correlation: { failingStake, totalStake, failingPpm, failedCheckSlashPpm: checkPpm, incorrectResultSlashPpm: resultPpm },
    nodes: out,
  };
}
