/**
 * Session leases: one session per node across every coordinator process
 * sharing a store. A lease names the process that holds the node's session
 * and lapses unless renewed, so a process killed with -9 frees its nodes
 * within one lease time (the agents' backoff retries meanwhile: close 4003).
 */
export interface SessionLeaseStore {
  /** Takes the node's lease for owner until now + ttlMs: true when free, lapsed, or already owner's. */
  claimSession(node: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Extends owner's leases on these nodes. */
  renewSessions(owner: string, nodes: readonly string[], now: number, ttlMs: number): Promise<void>;
  /** Gives the node's lease up, if owner holds it. */
  releaseSession(node: string, owner: string): Promise<void>;
}

/** Schema version 4 (appended to sqlite.ts SQLITE_MIGRATIONS; PostgreSQL's is derived from it). */
export const SESSIONS_MIGRATION = `
  CREATE TABLE session_leases (
    node       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
`;

/** The same statement in both dialects: positional parameters are written by the caller. */
export function claimSessionSql(p: (i: number) => string): string {
  return `INSERT INTO session_leases (node, owner, expires_at) VALUES (${p(1)}, ${p(2)}, ${p(3)})
    ON CONFLICT (node) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE session_leases.owner = excluded.owner OR session_leases.expires_at <= ${p(4)}`;
}
