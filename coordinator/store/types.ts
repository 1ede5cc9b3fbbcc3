/**
 * The coordinator's ledger storage. An interface, asynchronous throughout,
 * so the SQLite default and a PostgreSQL store for scale-out serve the same
 * server. Every method that writes returns only after the write is durable.
 *
 * Invariants every implementation keeps:
 * - (node, seq) is a permanent key: a record is never replaced or deleted;
 * - a node's head (seq, hash) moves only together with the records that make
 *   it, in one transaction, and only from the head the writer expected;
 * - equivocation evidence and the ban it causes are written together.
 */
import type { Inventory } from '../../proofs/messages.js';
import type { JobStore } from './job-types.js';
import type { LedgerStore } from './ledger-types.js';
import type { SessionLeaseStore } from './session-types.js';

export interface NodeInfo {
  id: string;
  /** 0 when the store holds no record of this node. */
  headSeq: number;
  headHash: string | null;
  firstSeen: number;
  lastSeen: number;
  connected: boolean;
  banned: boolean;
  banReason: string | null;
  /** Failed or missed PoT challenges. */
  strikes: number;
  /** Estimated clock offset of the node (ms, its clock minus ours); null before any record. */
  skewMs: number | null;
  agent: string | null;
  inventory: Inventory | null;
  /** gflops of the most recent verdict (0 when it failed); null before any. */
  gflops: number | null;
  lastVerdictAt: number | null;
}

export interface RecordRow {
  node: string;
  seq: number;
  hash: string;
  kind: string;
  time: number;
  /** canonical(env): exactly the signed text. */
  canonical: string;
  sig: string;
  receivedAt: number;
}

export interface RecordCopy {
  hash: string;
  canonical: string;
  sig: string;
}

export interface EquivocationEvidence {
  node: string;
  seq: number;
  /** The record held first (stored, or earlier in the same frame). */
  first: RecordCopy;
  /** The different record offered for the same seq. */
  second: RecordCopy;
  detectedAt: number;
}

/** What one att frame writes, atomically. */
export interface FrameCommit {
  node: string;
  /** The head seq the writer built on (0: none); the commit fails if the store's head differs. */
  baseSeq: number;
  /** New records, contiguous from baseSeq + 1. */
  records: RecordRow[];
  lastSeen: number;
  skewMs: number | null;
  equivocation: EquivocationEvidence | null;
}

export type ChallengeState = 'sent' | 'opened' | 'verified' | 'failed' | 'expired';

export interface ChallengeRow {
  id: string;
  node: string;
  seed: string;
  n: number;
  reps: number;
  k: number;
  deadlineMs: number;
  sentAt: number;
  state: ChallengeState;
}

export interface ChallengeCommitted {
  root: string;
  elapsedUs: number;
  device: string;
  committedAt: number;
  /** The checks drawn after the commit, [[r, i], ...]. */
  checks: (readonly [number, number])[];
  /** Median ws round trip (µs) deducted from the coordinator's own timing. */
  rttUs: number;
}

export interface VerdictRow {
  challenge: string;
  node: string;
  ok: boolean;
  gflops: number;
  reason: string | null;
  /** The signed verdict message as sent (canonical JSON). */
  message: string;
  at: number;
  /** Final state of the challenge. */
  state: Extract<ChallengeState, 'verified' | 'failed' | 'expired'>;
  /** Counts against the node (a failed or missed check). */
  strike: boolean;
}

export interface BeaconRow {
  id: string;
  time: number;
  /** The signed beacon message (canonical JSON). */
  message: string;
}

export interface NodeSeen {
  agent: string;
  inventory: Inventory;
  at: number;
}

/** Records, nodes and PoT (here), the ledger: epochs, stake, claims (ledger-types.ts), and jobs (job-types.ts). */
export interface Store extends LedgerStore, JobStore, SessionLeaseStore {
  /** Where the data lives, for logs (never a password). */
  readonly description: string;
  /** Creates the node on first sight; marks it connected; returns it. */
  nodeConnected(node: string, seen: NodeSeen): Promise<NodeInfo>;
  nodeDisconnected(node: string, at: number): Promise<void>;
  /** At startup: no node is connected to a coordinator that just started (SQLite, one process per store: its session leases are cleared too). */
  resetConnected(): Promise<void>;
  getNode(node: string): Promise<NodeInfo | null>;
  listNodes(): Promise<NodeInfo[]>;
  /** seq -> hash of the node's stored records with from <= seq <= to. */
  storedHashes(node: string, from: number, to: number): Promise<Map<number, string>>;
  getRecord(node: string, seq: number): Promise<RecordRow | null>;
  /**
   * Writes several frames' commits with one durable commit (group commit).
   * Each frame succeeds or fails on its own: the result holds null for a
   * frame written, or the error that kept it out. Rejects when nothing could
   * be written (the disk is full, the store is gone).
   */
  commitFrames(frames: readonly FrameCommit[]): Promise<(Error | null)[]>;
  insertBeacon(beacon: BeaconRow): Promise<void>;
  insertChallenge(challenge: ChallengeRow): Promise<void>;
  challengeCommitted(id: string, commit: ChallengeCommitted): Promise<void>;
  /** Writes the verdict, finishes the challenge and counts a strike, together. */
  recordVerdict(verdict: VerdictRow): Promise<void>;
  close(): Promise<void>;
}
