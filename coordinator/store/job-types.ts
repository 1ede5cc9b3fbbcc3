/**
 * Jobs in the coordinator's store: what operators submitted, where each was
 * sent, how it went, and what its usage record was judged. Storage-neutral
 * and asynchronous like the rest of the Store. Every state change is a
 * compare-and-set on the state the writer saw, so several dispatchers (one
 * per coordinator process) never both assign or both credit one job.
 */
import type { WORKLOAD_KINDS } from '../../proofs/envelope.js';

export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/**
 * queued -> assigned (sent) -> running -> done | failed | timeout | cancelled (the agent's word)
 * queued -> cancelled (withdrawn before it was sent); assigned | running -> lost (past its deadline, no word).
 */
export const COORDINATOR_JOB_STATES = ['queued', 'assigned', 'running', 'done', 'failed', 'timeout', 'cancelled', 'lost'] as const;
export type CoordinatorJobState = (typeof COORDINATOR_JOB_STATES)[number];
export const OPEN_JOB_STATES = ['assigned', 'running'] as const satisfies readonly CoordinatorJobState[];

/** What a usage record was judged: accepted (counts as work) or refused with a code. */
export type UsageVerdict = { accepted: true } | { accepted: false; code: UsageRefusalCode; reason: string };
export const USAGE_REFUSAL_CODES = ['usage-unknown-job', 'usage-wrong-node', 'usage-duplicate', 'usage-outside-window', 'usage-energy', 'usage-device', 'usage-workload'] as const;
export type UsageRefusalCode = (typeof USAGE_REFUSAL_CODES)[number];

/** Redundant execution: pending until every replica ended; then passed, failed (a minority digest), or disputed (no majority). */
export type AuditState = 'none' | 'pending' | 'passed' | 'failed' | 'disputed';

export interface JobRow {
  id: string;
  /** The submitted job a replica belongs to (its own id when not redundant). */
  group: string;
  workload: WorkloadKind;
  /** Canonical JSON of the params sent in `assign`. */
  params: string;
  deadlineMs: number;
  /** Micro-credits the customer pays for this replica. */
  fee: number;
  /** Replicas in the group (1: not redundant). */
  redundancy: number;
  /** A node the operator pinned the job to; null: any. */
  pinned: string | null;
  node: string | null;
  state: CoordinatorJobState;
  /** Nodes that rejected this job (it is not offered to them again). */
  rejectedBy: string[];
  /** The last reason a node or the coordinator gave. */
  reason: string | null;
  submittedAt: number;
  assignedAt: number | null;
  /** When the agent's final update arrived (coordinator clock). */
  finishedAt: number | null;
  cancelRequested: boolean;
  usageSeq: number | null;
  /** When the usage record was judged (coordinator clock). */
  usageAt: number | null;
  usageAccepted: boolean | null;
  usageCode: UsageRefusalCode | null;
  usageReason: string | null;
  outputSha256: string | null;
  gpuMs: number | null;
  energyMj: number | null;
  audit: AuditState;
  /** When the job became payable work (usage accepted, audit decided): the epoch it counts in. */
  creditedAt: number | null;
}

export type NewJob = Pick<JobRow, 'id' | 'group' | 'workload' | 'params' | 'deadlineMs' | 'fee' | 'redundancy' | 'pinned' | 'submittedAt'>;

/** The fields a transition may set. */
export type JobPatch = Partial<Omit<JobRow, 'id' | 'group' | 'workload' | 'params' | 'deadlineMs' | 'fee' | 'redundancy' | 'pinned' | 'submittedAt'>>;

export interface UsageRefusalRow {
  node: string;
  seq: number;
  job: string;
  code: UsageRefusalCode;
  reason: string;
  at: number;
}

export interface JobFilter {
  state?: CoordinatorJobState;
  node?: string;
  group?: string;
  limit?: number;
}

export interface JobStore {
  /** Inserts new jobs together, queued (audit pending when redundant); false (nothing written) when an id is taken. */
  insertJobs(jobs: readonly NewJob[]): Promise<boolean>;
  getJob(id: string): Promise<JobRow | null>;
  /** Newest first. */
  listJobs(filter?: JobFilter): Promise<JobRow[]>;
  /** Oldest first: what a dispatcher offers next. */
  queuedJobs(limit: number): Promise<JobRow[]>;
  /** Jobs still waiting for something: assigned or running, or ended by the agent with no usage judged yet. */
  unsettledJobs(): Promise<JobRow[]>;
  /** Applies patch when the job's state is one of `from`; false when it is not (another writer moved it first). */
  transitionJob(id: string, from: readonly CoordinatorJobState[], patch: JobPatch): Promise<boolean>;
  /** Sets the usage judgement once: false when the job already has one. */
  recordUsageJudgement(id: string, patch: JobPatch): Promise<boolean>;
  /** Sets audit (and creditedAt) on each listed job, together. */
  setAudit(updates: readonly { id: string; audit: AuditState; creditedAt: number | null }[]): Promise<void>;
  recordUsageRefusal(row: UsageRefusalRow): Promise<void>;
  usageRefusals(node?: string): Promise<UsageRefusalRow[]>;
  /** Jobs credited in [fromMs, toMs), for an epoch's facts. */
  creditedJobs(fromMs: number, toMs: number): Promise<JobRow[]>;
}
