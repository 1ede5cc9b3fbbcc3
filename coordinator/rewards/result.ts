/**
 * What computeEpoch returns: plain JSON (integers; exact rationals as decimal
 * strings), everything the ledger needs to apply an epoch and everything an
 * operator needs to check a payout.
 */
import type { EpochChecks } from './capacity.js';

export type PenaltyKind = 'failed-check' | 'missed-challenge' | 'incorrect-result' | 'fraud' | 'downtime';

export interface PenaltyLine {
  kind: PenaltyKind;
  /** How many events of this kind in the epoch. */
  count: number;
  /** Stake slashed for them (burned). */
  slashed: number;
  /** Unvested credits forfeited (fraud only; burned). */
  forfeited: number;
  /** Job fees not paid because the results were wrong or the node committed fraud (returned to the customers). */
  refunded: number;
  /** The slash fraction applied per event after the correlation penalty, ppm. */
  slashPpm: number;
  note: string;
}

export interface NodePayout {
  node: string;
  /** Micro-credits earned this epoch: pooled + feeReturn. Vests per vesting.ts. */
  payout: number;
  parts: {
    /** Exact capacity quota, capacity pot * score / sum(score), in micro-credits as a decimal. */
    capacity: string;
    /** Exact work quota, in micro-credits as a decimal. */
    work: string;
    /** The apportioned sum of both quotas. */
    pooled: number;
    /** Whether one left-over micro-credit went to this node. */
    extraMicro: boolean;
    /** 90% of own accepted fees, rounded down. */
    feeReturn: number;
  };
  facts: {
    coveredMs: number;
    uptimePpm: number;
    /** Busy time counted for utilisation (at most coveredMs). */
    busyMs: number;
    capacityGflops: number;
    /** The verdict values V is the median of, oldest first. */
    capacityWindow: number[];
    capacityZeroBecause: 'no-verdicts' | 'last-not-passed' | null;
    checks: EpochChecks;
    acceptedFees: number;
    acceptedJobs: number;
    refundedFees: number;
    stake: number;
    reputation: number;
    newNode: boolean;
  };
  score: {
    /** g(u) in ppm (0 below the threshold). */
    uptimeWeightPpm: number;
    /** Stake needed to collateralise V (kappa * V); stake beyond it earns nothing. */
    stakeNeeded: number;
    /** Capacity counted: min(V, S / kappa), GFLOP/s, as a decimal. */
    collateralisedGflops: string;
    /** The exact integer score (common factors left out), as a decimal string. */
    value: string;
    /** score / sum(score), ppm, rounded down. */
    sharePpm: number;
  };
  penalties: PenaltyLine[];
  /** This epoch's reliability r (1: uptime and no failed, missed or botched check). */
  reliable: boolean;
  reputationAfter: number;
  stakeAfter: number;
  slashed: number;
  forfeited: number;
  banned: boolean;
}

export interface EpochResult {
  epoch: { index: number; startMs: number; endMs: number };
  budget: {
    emission: number;
    carryIn: number;
    /** 10% of accepted job fees (per node: fees - floor(90% of fees)). */
    feeCut: number;
    /** B. */
    total: number;
    /** Capacity-weighted share of covered time spent on assigned jobs, ppm. */
    utilisationPpm: number;
    /** clamp(0.2 + 0.6 * utilisation, 0.2, 0.8), ppm. */
    workFractionPpm: number;
    /** B_work. */
    work: number;
    /** B_avail. */
    avail: number;
    /** What the work quotas add up to (at most B_work; capped at cap * sum(W)), as a decimal. */
    workQuotas: string;
    /** Split by score: B_avail plus the part of B_work the work quotas left (0 when no node scores; then it is carried). */
    capacityPot: string;
    /** What was apportioned among the nodes: floor(sum of all quotas). */
    pooled: number;
    /** B - pooled: carried to the next epoch. */
    carryOut: number;
  };
  totals: {
    /** Sum of payouts = pooled + feeReturns. */
    payouts: number;
    feeReturns: number;
    acceptedFees: number;
    refundedFees: number;
    slashed: number;
    forfeited: number;
    /** slashed + forfeited: destroyed, not carried. */
    burned: number;
  };
  correlation: {
    failingStake: number;
    totalStake: number;
    failingPpm: number;
    failedCheckSlashPpm: number;
    incorrectResultSlashPpm: number;
  };
  /** Sorted by node id. */
  nodes: NodePayout[];
}
