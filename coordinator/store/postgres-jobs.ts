/**
 * The PostgreSQL store's foundation and its jobs half (job-types.ts): the
 * connection pool, schema migration on first use, transactions, and the
 * same compare-and-set transitions as SQLite's, which here also keep
 * several coordinator processes from moving one job twice.
 */
import pg from 'pg';
import { CapanodeError } from '../../common/errors.js';
import type { AuditState, CoordinatorJobState, JobFilter, JobPatch, JobRow, JobStore, NewJob, UsageRefusalRow } from './job-types.js';
import { PG_MIGRATIONS } from './postgres-schema.js';
import { DuplicateJob, JOB_COLUMNS, toJob, type JobDbRow } from './sqlite-jobs.js';

export type Queryable = Pick<pg.PoolClient, 'query'>;
type Value = string | number | boolean | null | readonly string[];

// BIGINT (int8) columns hold safe integers (ms, micro-credits, seqs): read them as numbers, as SQLite gives them.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

/** A stable 64-bit key for pg_advisory_xact_lock. */
const MIGRATION_LOCK = 0x63617061_6e6f6465n;

function storeError(e: unknown, description: string): CapanodeError {
  return new CapanodeError('store-unavailable', `the store ${description} failed: ${e instanceof Error ? e.message : String(e)}`, {
    hint: 'Check that PostgreSQL is running and reachable with the --store URL, and that the role may create tables in its database.',
    cause: e,
  });
}

/** The URL with any password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export class PgJobs implements JobStore {
  protected readonly pool: pg.Pool;
  readonly description: string;
  private readyPromise: Promise<void> | null = null;

  constructor(url: string) {
    this.description = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, types, max: 10 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /** Migrates on first use: every method waits for it. */
  protected ready(): Promise<void> {
    this.readyPromise ??= this.migrate().catch((e: unknown) => {
      this.readyPromise = null;
      throw storeError(e, this.description);
    });
    return this.readyPromise;
  }

  private async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      await c.query('CREATE TABLE IF NOT EXISTS capanode_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)');
      const found = await c.query<{ version: number }>('SELECT version FROM capanode_schema WHERE id = 1');
      const version = found.rows[0]?.version ?? 0;
      if (version > PG_MIGRATIONS.length) {
        throw new CapanodeError('store-schema', `the store ${this.description} has schema version ${version}; this coordinator knows up to ${PG_MIGRATIONS.length}`, {
          hint: 'Run a newer capanode-coordinator, or restore a backup made by this version.',
        });
      }
      for (let v = version; v < PG_MIGRATIONS.length; v++) await c.query(PG_MIGRATIONS[v] as string);
      await c.query('INSERT INTO capanode_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version', [PG_MIGRATIONS.length]);
    }, false);
  }

  /** Runs fn in one transaction; rolls back on any error. */
  protected async tx<T>(fn: (c: Queryable) => Promise<T>, waitReady = true): Promise<T> {
    if (waitReady) await this.ready();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  protected async rows<R extends pg.QueryResultRow>(sql: string, values: Value[] = []): Promise<R[]> {
    await this.ready();
    return (await this.pool.query<R>(sql, values)).rows;
  }

  protected async run(sql: string, values: Value[] = []): Promise<number> {
    await this.ready();
    return (await this.pool.query(sql, values)).rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  insertJobs(jobs: readonly NewJob[]): Promise<boolean> {
    return this.tx(async (c) => {
      for (const j of jobs) {
        const r = await c.query(
          `INSERT INTO jobs (id, grp, workload, params, deadline_ms, fee, redundancy, pinned, state, submitted_at, audit)
           VALUES ($1, $2, $3, $4, $5, $6, $7::bigint, $8, 'queued', $9, CASE WHEN $7::bigint > 1 THEN 'pending' ELSE 'none' END) ON CONFLICT (id) DO NOTHING`,
          [j.id, j.group, j.workload, j.params, j.deadlineMs, j.fee, j.redundancy, j.pinned, j.submittedAt],
        );
        // One id taken: nothing of this submission is written.
        if (r.rowCount !== 1) throw new DuplicateJob();
      }
      return true;
    }).catch((e: unknown) => {
      if (e instanceof DuplicateJob) return false;
      throw e;
    });
  }

  async getJob(id: string): Promise<JobRow | null> {
    const [row] = await this.rows<JobDbRow>('SELECT * FROM jobs WHERE id = $1', [id]);
    return row === undefined ? null : toJob(row);
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRow[]> {
    const where: string[] = [];
    const values: Value[] = [];
    for (const [column, value] of [['state', filter.state], ['node', filter.node], ['grp', filter.group]] as const) {
      if (value === undefined) continue;
      values.push(value);
      where.push(`${column} = $${values.length}`);
    }
    values.push(filter.limit ?? 1_000_000);
    const sql = `SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY submitted_at DESC, id LIMIT $${values.length}`;
    return (await this.rows<JobDbRow>(sql, values)).map(toJob);
  }

  async queuedJobs(limit: number): Promise<JobRow[]> {
    return (await this.rows<JobDbRow>("SELECT * FROM jobs WHERE state = 'queued' ORDER BY submitted_at, id LIMIT $1", [limit])).map(toJob);
  }

  async unsettledJobs(): Promise<JobRow[]> {
    const sql = "SELECT * FROM jobs WHERE state IN ('assigned', 'running') OR (assigned_at IS NOT NULL AND usage_at IS NULL AND state <> 'queued') ORDER BY assigned_at, id";
    return (await this.rows<JobDbRow>(sql)).map(toJob);
  }

  private assignments(patch: JobPatch, values: Value[]): string {
    const sets: string[] = [];
    for (const [key, value] of Object.entries(patch) as [keyof JobPatch, unknown][]) {
      const [column, encode] = JOB_COLUMNS[key] as [string, (v: unknown) => string | number | null];
      values.push(encode(value ?? null));
      sets.push(`${column} = $${values.length}`);
    }
    return sets.join(', ');
  }

  async transitionJob(id: string, from: readonly CoordinatorJobState[], patch: JobPatch): Promise<boolean> {
    const values: Value[] = [];
    const sets = this.assignments(patch, values);
    if (sets === '' || from.length === 0) return false;
    values.push(id);
    const idAt = values.length;
    const states = from.map((s) => (values.push(s), `$${values.length}`));
    return (await this.run(`UPDATE jobs SET ${sets} WHERE id = $${idAt} AND state IN (${states.join(', ')})`, values)) === 1;
  }

  async recordUsageJudgement(id: string, patch: JobPatch): Promise<boolean> {
    const values: Value[] = [];
    const sets = this.assignments(patch, values);
    values.push(id);
    return (await this.run(`UPDATE jobs SET ${sets} WHERE id = $${values.length} AND usage_at IS NULL`, values)) === 1;
  }

  async setAudit(updates: readonly { id: string; audit: AuditState; creditedAt: number | null }[]): Promise<void> {
    await this.tx(async (c) => {
      for (const u of updates) await c.query('UPDATE jobs SET audit = $1, credited_at = $2 WHERE id = $3', [u.audit, u.creditedAt, u.id]);
    });
  }

  async recordUsageRefusal(r: UsageRefusalRow): Promise<void> {
    await this.run('INSERT INTO usage_refusals (node, seq, job, code, reason, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (node, seq) DO NOTHING', [r.node, r.seq, r.job, r.code, r.reason, r.at]);
  }

  usageRefusals(node?: string): Promise<UsageRefusalRow[]> {
    return this.rows<UsageRefusalRow>('SELECT node, seq, job, code, reason, at FROM usage_refusals WHERE ($1::text IS NULL OR node = $1) ORDER BY at, node, seq', [node ?? null]);
  }

  async creditedJobs(fromMs: number, toMs: number): Promise<JobRow[]> {
    return (await this.rows<JobDbRow>('SELECT * FROM jobs WHERE credited_at >= $1 AND credited_at < $2 ORDER BY id', [fromMs, toMs])).map(toJob);
  }
}

