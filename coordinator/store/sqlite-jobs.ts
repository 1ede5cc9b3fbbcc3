/**
 * The jobs half of the SQLite store (job-types.ts). Each transition is one
 * UPDATE guarded by the state the writer saw, so it applies at most once.
 */
import type Database from 'better-sqlite3';
import type { AuditState, CoordinatorJobState, JobFilter, JobPatch, JobRow, JobStore, NewJob, UsageRefusalCode, UsageRefusalRow } from './job-types.js';

/** Schema version 3 (appended to sqlite.ts MIGRATIONS). */
export const JOBS_MIGRATION = `
  CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    grp              TEXT NOT NULL,
    workload         TEXT NOT NULL,
    params           TEXT NOT NULL,
    deadline_ms      INTEGER NOT NULL,
    fee              INTEGER NOT NULL,
    redundancy       INTEGER NOT NULL,
    pinned           TEXT,
    node             TEXT,
    state            TEXT NOT NULL,
    rejected_by      TEXT NOT NULL DEFAULT '[]',
    reason           TEXT,
    submitted_at     INTEGER NOT NULL,
    assigned_at      INTEGER,
    finished_at      INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    usage_seq        INTEGER,
    usage_at         INTEGER,
    usage_accepted   INTEGER,
    usage_code       TEXT,
    usage_reason     TEXT,
    output_sha256    TEXT,
    gpu_ms           INTEGER,
    energy_mj        INTEGER,
    audit            TEXT NOT NULL DEFAULT 'none',
    credited_at      INTEGER
  );
  CREATE INDEX jobs_state ON jobs (state, submitted_at);
  CREATE INDEX jobs_group ON jobs (grp);
  CREATE INDEX jobs_credited ON jobs (credited_at);
  CREATE TABLE usage_refusals (
    node   TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    job    TEXT NOT NULL,
    code   TEXT NOT NULL,
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (node, seq)
  );
`;

export interface JobDbRow {
  id: string;
  grp: string;
  workload: JobRow['workload'];
  params: string;
  deadline_ms: number;
  fee: number;
  redundancy: number;
  pinned: string | null;
  node: string | null;
  state: CoordinatorJobState;
  rejected_by: string;
  reason: string | null;
  submitted_at: number;
  assigned_at: number | null;
  finished_at: number | null;
  cancel_requested: number;
  usage_seq: number | null;
  usage_at: number | null;
  usage_accepted: number | null;
  usage_code: UsageRefusalCode | null;
  usage_reason: string | null;
  output_sha256: string | null;
  gpu_ms: number | null;
  energy_mj: number | null;
  audit: AuditState;
  credited_at: number | null;
}

export function toJob(r: JobDbRow): JobRow {
  return {
    id: r.id,
    group: r.grp,
    workload: r.workload,
    params: r.params,
    deadlineMs: r.deadline_ms,
    fee: r.fee,
    redundancy: r.redundancy,
    pinned: r.pinned,
    node: r.node,
    state: r.state,
    rejectedBy: JSON.parse(r.rejected_by) as string[],
    reason: r.reason,
    submittedAt: r.submitted_at,
    assignedAt: r.assigned_at,
    finishedAt: r.finished_at,
    cancelRequested: r.cancel_requested === 1,
    usageSeq: r.usage_seq,
    usageAt: r.usage_at,
    usageAccepted: r.usage_accepted === null ? null : r.usage_accepted === 1,
    usageCode: r.usage_code,
    usageReason: r.usage_reason,
    outputSha256: r.output_sha256,
    gpuMs: r.gpu_ms,
    energyMj: r.energy_mj,
    audit: r.audit,
    creditedAt: r.credited_at,
  };
}

/** JobPatch field -> column, and how its value is stored. */
export const JOB_COLUMNS: { [K in keyof Required<JobPatch>]: [string, (v: NonNullable<JobPatch[K]> | null) => string | number | null] } = {
  node: ['node', (v) => v],
  state: ['state', (v) => v],
  rejectedBy: ['rejected_by', (v) => JSON.stringify(v ?? [])],
  reason: ['reason', (v) => v],
  assignedAt: ['assigned_at', (v) => v],
  finishedAt: ['finished_at', (v) => v],
  cancelRequested: ['cancel_requested', (v) => (v === true ? 1 : 0)],
  usageSeq: ['usage_seq', (v) => v],
  usageAt: ['usage_at', (v) => v],
  usageAccepted: ['usage_accepted', (v) => (v === null ? null : v ? 1 : 0)],
  usageCode: ['usage_code', (v) => v],
  usageReason: ['usage_reason', (v) => v],
  outputSha256: ['output_sha256', (v) => v],
  gpuMs: ['gpu_ms', (v) => v],
  energyMj: ['energy_mj', (v) => v],
  audit: ['audit', (v) => v],
  creditedAt: ['credited_at', (v) => v],
};

function assignments(patch: JobPatch): { sql: string; values: (string | number | null)[] } {
  const sets: string[] = [];
  const values: (string | number | null)[] = [];
  for (const [key, value] of Object.entries(patch) as [keyof JobPatch, unknown][]) {
    const [column, encode] = JOB_COLUMNS[key] as [string, (v: unknown) => string | number | null];
    sets.push(`${column} = ?`);
    values.push(encode(value ?? null));
  }
  return { sql: sets.join(', '), values };
}

export class SqliteJobs implements JobStore {
  private readonly jobStmts;

  constructor(protected readonly db: Database.Database) {
    this.jobStmts = {
      insert: db.prepare(
        `INSERT INTO jobs (id, grp, workload, params, deadline_ms, fee, redundancy, pinned, state, submitted_at, audit)
         VALUES (@id, @group, @workload, @params, @deadlineMs, @fee, @redundancy, @pinned, 'queued', @submittedAt, CASE WHEN @redundancy > 1 THEN 'pending' ELSE 'none' END)
         ON CONFLICT (id) DO NOTHING`,
      ),
      get: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      queued: db.prepare("SELECT * FROM jobs WHERE state = 'queued' ORDER BY submitted_at, id LIMIT ?"),
      unsettled: db.prepare("SELECT * FROM jobs WHERE state IN ('assigned', 'running') OR (assigned_at IS NOT NULL AND usage_at IS NULL AND state <> 'queued') ORDER BY assigned_at, id"),
      credited: db.prepare('SELECT * FROM jobs WHERE credited_at >= ? AND credited_at < ? ORDER BY id'),
      audit: db.prepare('UPDATE jobs SET audit = ?, credited_at = ? WHERE id = ?'),
      refusal: db.prepare('INSERT INTO usage_refusals (node, seq, job, code, reason, at) VALUES (@node, @seq, @job, @code, @reason, @at) ON CONFLICT (node, seq) DO NOTHING'),
      refusals: db.prepare('SELECT node, seq, job, code, reason, at FROM usage_refusals WHERE (? IS NULL OR node = ?) ORDER BY at, node, seq'),
    };
  }

  insertJobs(jobs: readonly NewJob[]): Promise<boolean> {
    const insert = this.db.transaction((list: readonly NewJob[]) => {
      for (const j of list) {
        if (this.jobStmts.insert.run(j).changes !== 1) throw new DuplicateJob();
      }
    });
    try {
      insert(jobs);
      return Promise.resolve(true);
    } catch (e) {
      if (e instanceof DuplicateJob) return Promise.resolve(false);
      throw e;
    }
  }

  getJob(id: string): Promise<JobRow | null> {
    const row = this.jobStmts.get.get(id) as JobDbRow | undefined;
    return Promise.resolve(row === undefined ? null : toJob(row));
  }

  listJobs(filter: JobFilter = {}): Promise<JobRow[]> {
    const where: string[] = [];
    const values: (string | number)[] = [];
    for (const [column, value] of [['state', filter.state], ['node', filter.node], ['grp', filter.group]] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      values.push(value);
    }
    const sql = `SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY submitted_at DESC, id LIMIT ?`;
    const rows = this.db.prepare(sql).all(...values, filter.limit ?? 1_000_000) as JobDbRow[];
    return Promise.resolve(rows.map(toJob));
  }

  queuedJobs(limit: number): Promise<JobRow[]> {
    return Promise.resolve((this.jobStmts.queued.all(limit) as JobDbRow[]).map(toJob));
  }

  unsettledJobs(): Promise<JobRow[]> {
    return Promise.resolve((this.jobStmts.unsettled.all() as JobDbRow[]).map(toJob));
  }

  transitionJob(id: string, from: readonly CoordinatorJobState[], patch: JobPatch): Promise<boolean> {
    const { sql, values } = assignments(patch);
    if (sql === '' || from.length === 0) return Promise.resolve(false);
    const result = this.db.prepare(`UPDATE jobs SET ${sql} WHERE id = ? AND state IN (${from.map(() => '?').join(', ')})`).run(...values, id, ...from);
    return Promise.resolve(result.changes === 1);
  }

  recordUsageJudgement(id: string, patch: JobPatch): Promise<boolean> {
    const { sql, values } = assignments(patch);
    const result = this.db.prepare(`UPDATE jobs SET ${sql} WHERE id = ? AND usage_at IS NULL`).run(...values, id);
    return Promise.resolve(result.changes === 1);
  }

  setAudit(updates: readonly { id: string; audit: AuditState; creditedAt: number | null }[]): Promise<void> {
    this.db.transaction(() => {
      for (const u of updates) this.jobStmts.audit.run(u.audit, u.creditedAt, u.id);
    })();
    return Promise.resolve();
  }

  recordUsageRefusal(row: UsageRefusalRow): Promise<void> {
    this.jobStmts.refusal.run(row);
    return Promise.resolve();
  }

  usageRefusals(node?: string): Promise<UsageRefusalRow[]> {
    return Promise.resolve(this.jobStmts.refusals.all(node ?? null, node ?? null) as UsageRefusalRow[]);
  }

  creditedJobs(fromMs: number, toMs: number): Promise<JobRow[]> {
    return Promise.resolve((this.jobStmts.credited.all(fromMs, toMs) as JobDbRow[]).map(toJob));
  }
}

/** Thrown inside an insert transaction when a job id is taken: the transaction rolls back and insertJobs answers false. */
export class DuplicateJob extends Error {}
