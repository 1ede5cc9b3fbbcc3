import type { Account, Beacon, Cancel, Challenge, Assign, ClaimRefused, Receipt, Inventory, Verdict } from '../../proofs/messages.js';
import type { RevealItem } from '../../proofs/pot.js';

/** What the link needs from the journal (agent/journal implements it). */
export interface LinkJournal {
  readonly nodeId: string;
  head(): { seq: number; hash: string } | null;
  /** The hash of the record at seq, or null if the journal does not hold it (never signed, or pruned). */
  hashAt(seq: number): string | null;
  /** Highest seq the coordinator acknowledged. */
  watermark(): number;
  /** Canonical record lines with seq > after, in order, at most limit. */
  backlog(after: number, limit: number): { seq: number; line: string }[];
  /** Cumulative acknowledgement; never beyond head, never backwards. */
  ack(seq: number): void;
  /** The coordinator refused this record for good. */
  reject(seq: number, code: string, reason: string): void;
  /** An empty journal continues the coordinator's chain (--adopt-remote-head). */
  adoptHead?(seq: number, hash: string): void;
}

/** Answers a PoT challenge: computes every rep and returns the commitment and a way to reveal. */
export interface PotSolver {
  solve(challenge: Challenge, signal: AbortSignal): Promise<PotSolution>;
}

export interface PotSolution {
  root: string;
  elapsedUs: number;
  device: string;
  reveal(checks: readonly (readonly [number, number])[]): RevealItem[] | Promise<RevealItem[]>;
}

/** What the link tells the rest of the agent. All optional; none may throw into the link. */
export interface LinkEvents {
  onState?(state: LinkStatus): void;
  onBeacon?(beacon: Beacon): void;
  /** solution is null when the verdict came before the node committed (a missed deadline): nothing was proved. */
  onVerdict?(verdict: Verdict, challenge: Challenge, solution: { root: string; elapsedUs: number; device: string } | null): void;
  onAssign?(assign: Assign): void;
  /** The coordinator withdrew a job it assigned. */
  onCancel?(cancel: Cancel): void;
  onReceipt?(receipt: Receipt): void;
  /** The coordinator stored a claim record but did not pay it (the record stays acknowledged: it is not a rejected record). */
  onClaimRefused?(refusal: ClaimRefused): void;
  /** The node's earnings as the coordinator's ledger holds them (after welcome, each epoch close and each claim). */
  onAccount?(account: Account): void;
  onRejected?(seq: number, code: string, message: string): void;
  onFork?(detail: { seq: number; local: string | null; remote: string }): void;
}

export interface LinkStatus {
  state: 'disabled' | 'connecting' | 'connected' | 'backoff' | 'fork' | 'refused' | 'stopped';
  since: number;
  lastAckAt: number | null;
  lastAckSeq: number | null;
  lastError: string | null;
  nextRetryAt: number | null;
  rttMs: number | null;
  clockSkewMs: number | null;
}

export type InventorySource = () => Inventory;
