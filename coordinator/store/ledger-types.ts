/**
 * The ledger half of the Store: what epoch closes, stake and claims read and
 * write. Storage-neutral and asynchronous like the rest of the Store (the
 * SQLite default and a PostgreSQL store serve the same coordinator); money is
 * integer micro-credits, times integer ms on the coordinator's clock.
 *
 * Invariants every implementation keeps:
 * - an epoch is closed once: its row and all of its ledger rows are written
 *   in one transaction, and never changed afterwards;
 * - a claim is decided once: its decision and its allocations to epochs are
 *   written together, keyed by the claim record's (node, seq);
 * - a stake credit is keyed by its reference, so a bridge replaying a
 *   deposit never credits it twice.
 */
import type { ClaimRefusedCode } from '../../proofs/messages.js';
import type { NodeEpochFacts } from '../rewards/facts.js';
import type { RewardParams } from '../rewards/params.js';
import type { EpochResult, NodePayout, PenaltyLine } from '../rewards/result.js';
import type { RecordRow } from './types.js';

/** Epoch i covers [genesisMs + i * epochMs, genesisMs + (i + 1) * epochMs). */
export interface EpochSchedule {
  genesisMs: number;
  epochMs: number;
}

/** An epoch's result without its per-node entries (those are ledger rows). */
export type EpochSummary = Omit<EpochResult, 'nodes'>;

export interface EpochRow {
  index: number;
  startMs: number;
  endMs: number;
  /** Uptime records received before this time (the end plus the close delay) counted for the epoch. */
  untilMs: number;
  /** SHA-256 of the canonical facts and parameters the epoch was computed from. */
  inputsHash: string;
  carryIn: number;
  carryOut: number;
  /** B: emission + carry-in + fee cut. */
  budget: number;
  payouts: number;
  slashed: number;
  forfeited: number;
  burned: number;
  nodes: number;
  closedAt: number;
  params: RewardParams;
  summary: EpochSummary;
}

/** One node in one closed epoch, without the full facts and payout. */
export interface LedgerEntry {
  epoch: number;
  node: string;
  /** The epoch's end: when this epoch's earnings start vesting. */
  endMs: number;
  earned: number;
  slashed: number;
  forfeited: number;
  stakeAfter: number;
  reputationAfter: number;
  banned: boolean;
  penalties: PenaltyLine[];
}

/** A ledger entry with what it was computed from and the engine's full account of it. */
export interface LedgerDetail extends LedgerEntry {
  facts: NodeEpochFacts;
  payout: NodePayout;
}

export interface EpochClose {
  epoch: EpochRow;
  rows: LedgerDetail[];
}

export interface LedgerFilter {
  node?: string;
  /** Inclusive epoch range. */
  fromEpoch?: number;
  toEpoch?: number;
}

/** A node that takes part in epochs: seen before the epoch ended. */
export interface EpochNode {
  id: string;
  firstSeen: number;
  /** When its first equivocation was detected (the ban); null when never. */
  bannedAt: number | null;
}

/** An uptime record with what the coordinator knew about the beacon it cites. */
export interface UptimeRecordFact {
  node: string;
  /** The node's own interval (its clock). */
  from: number;
  to: number;
  receivedAt: number;
  /** The cited beacon's time, or null when the record cites none or one this coordinator never issued. */
  beaconTime: number | null;
  /** Beacons issued after the cited one and at or before receipt, counted up to 2; null when there is no cited beacon. */
  beaconsAfter: number | null;
}

export interface VerdictRecordFact {
  node: string;
  at: number;
  ok: boolean;
  gflops: number;
  reason: string | null;
}

export interface EquivocationFact {
  node: string;
  seq: number;
  firstHash: string;
  secondHash: string;
  detectedAt: number;
}

export interface StakeCredit {
  /** Unique reference of the deposit (an operator action id, or chain:tx:log for a bridge): credited at most once. */
  ref: string;
  node: string;
  /** Micro-credits, >= 1. */
  amount: number;
  at: number;
  /** Who credited it: "operator", or the bridge's name. */
  source: string;
  note: string | null;
}

export interface ClaimAllocation {
  epoch: number;
  amount: number;
}

export interface ClaimRow {
  node: string;
  seq: number;
  /** Hash of the claim record. */
  hash: string;
  requested: number;
  to: string;
  epochs: [number, number];
  /** Micro-credits paid (0 when refused). */
  paid: number;
  /** null when paid. */
  code: ClaimRefusedCode | null;
  decidedAt: number;
  /** The signed receipt or claim-refused message, canonical JSON: sent again, byte for byte, on every re-delivery. */
  message: string;
  /** Which epochs' vested credits a paid claim drew on, oldest first. */
  allocations: ClaimAllocation[];
}

export interface LedgerStore {
  /** The epoch schedule: the one stored, or `proposed`, stored now, when there is none yet. */
  epochSchedule(proposed: EpochSchedule): Promise<EpochSchedule>;
  /** Nodes first seen before `beforeMs`. */
  epochNodes(beforeMs: number): Promise<EpochNode[]>;
  /** Uptime records received in [fromMs, untilMs). */
  uptimeFacts(fromMs: number, untilMs: number): Promise<UptimeRecordFact[]>;
  /**
   * Verdicts that count for or against nodes (all but those the coordinator
   * could not check itself): every one signed in [startMs, endMs), and each
   * node's last `previous` before startMs.
   */
  verdictFacts(startMs: number, endMs: number, previous: number): Promise<VerdictRecordFact[]>;
  /** Equivocations detected in [fromMs, untilMs). */
  equivocationFacts(fromMs: number, untilMs: number): Promise<EquivocationFact[]>;
  /** Stake credits made before `beforeMs`, by node and time; one node's when given. */
  stakeCredits(beforeMs: number, node?: string): Promise<StakeCredit[]>;
  /** Credits stake; false when a credit with the same ref exists (nothing written). */
  creditStake(credit: StakeCredit): Promise<boolean>;
  getEpoch(index: number): Promise<EpochRow | null>;
  lastClosedEpoch(): Promise<EpochRow | null>;
  listEpochs(): Promise<EpochRow[]>;
  /** Writes an epoch and its ledger rows in one transaction; false (nothing written) when the epoch is already closed. */
  closeEpoch(close: EpochClose): Promise<boolean>;
  /** Ledger entries by epoch, then node. */
  ledgerEntries(filter?: LedgerFilter): Promise<LedgerEntry[]>;
  /** Ledger entries with their facts and payouts, by epoch, then node. */
  ledgerDetails(filter?: LedgerFilter): Promise<LedgerDetail[]>;
  /** Stake slashed from each node in epochs before `beforeEpoch`. */
  slashedTotals(beforeEpoch: number): Promise<Map<string, number>>;
  getClaim(node: string, seq: number): Promise<ClaimRow | null>;
  /** Claims by node, then seq; one node's when given. */
  listClaims(node?: string): Promise<ClaimRow[]>;
  /** Writes a claim decision with its allocations; false (nothing written) when (node, seq) is already decided. */
  recordClaim(claim: ClaimRow): Promise<boolean>;
  /** Claim records stored with no decision (the coordinator stopped between the commit and the decision), by node and seq. */
  undecidedClaims(): Promise<RecordRow[]>;
}
