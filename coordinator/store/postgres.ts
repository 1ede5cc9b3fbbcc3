/**
 * The PostgreSQL store (`--store postgres://...`), for networks that outgrow
 * one SQLite file: the Store interface with the same invariants. A commit
 * returns after PostgreSQL's COMMIT (durable with the server's default
 * synchronous_commit = on); a node's head moves only from the head the
 * writer saw (an UPDATE guarded by it), so two writers can never fork a
 * node's chain; each frame of a group commit is its own savepoint.
 */
import { CapanodeError } from '../../common/errors.js';
import { PgLedger } from './postgres-ledger.js';
import { claimSessionSql } from './session-types.js';
import { toNodeInfo, type NodeDbRow } from './sqlite.js';
import type { BeaconRow, ChallengeCommitted, ChallengeRow, FrameCommit, NodeInfo, NodeSeen, RecordRow, Store, VerdictRow } from './types.js';
import type { Queryable } from './postgres-jobs.js';

const NODE_SELECT = `
  SELECT n.*, v.gflops AS gflops, v.at AS verdict_at
  FROM nodes n
  LEFT JOIN LATERAL (SELECT gflops, at FROM verdicts WHERE node = n.id ORDER BY at DESC, id DESC LIMIT 1) v ON true`;

export class PostgresStore extends PgLedger implements Store {
  async nodeConnected(node: string, seen: NodeSeen): Promise<NodeInfo> {
    await this.tx(async (c) => {
      await c.query('INSERT INTO nodes (id, first_seen, last_seen) VALUES ($1, $2, $2) ON CONFLICT (id) DO NOTHING', [node, seen.at]);
      await c.query('UPDATE nodes SET connected = 1, last_seen = $1, agent = $2, inventory = $3 WHERE id = $4', [seen.at, seen.agent, JSON.stringify(seen.inventory), node]);
    });
    return (await this.getNode(node)) as NodeInfo;
  }

  async nodeDisconnected(node: string, at: number): Promise<void> {
    await this.run('UPDATE nodes SET connected = 0, last_seen = greatest(last_seen, $1) WHERE id = $2', [at, node]);
  }

  async resetConnected(): Promise<void> {
    await this.run('UPDATE nodes SET connected = 0 WHERE connected = 1');
  }

  async getNode(node: string): Promise<NodeInfo | null> {
    const [row] = await this.rows<NodeDbRow>(`${NODE_SELECT} WHERE n.id = $1`, [node]);
    return row === undefined ? null : toNodeInfo(row);
  }

  async listNodes(): Promise<NodeInfo[]> {
    return (await this.rows<NodeDbRow>(`${NODE_SELECT} ORDER BY n.id`)).map(toNodeInfo);
  }

  async storedHashes(node: string, from: number, to: number): Promise<Map<number, string>> {
    const rows = await this.rows<{ seq: number; hash: string }>('SELECT seq, hash FROM records WHERE node = $1 AND seq BETWEEN $2 AND $3', [node, from, to]);
    return new Map(rows.map((r) => [r.seq, r.hash]));
  }

  async getRecord(node: string, seq: number): Promise<RecordRow | null> {
    const [row] = await this.rows<RecordRow>('SELECT node, seq, hash, kind, time, canonical, sig, received_at AS "receivedAt" FROM records WHERE node = $1 AND seq = $2', [node, seq]);
    return row ?? null;
  }

  async commitFrames(frames: readonly FrameCommit[]): Promise<(Error | null)[]> {
    try {
      // The common case in one round trip: every frame continues its head and none carries evidence.
      if (frames.length > 1 && frames.every((f) => f.equivocation === null && f.records.length > 0) && (await this.commitAllAtOnce(frames))) return frames.map(() => null);
      return await this.tx(async (c) => {
        const out: (Error | null)[] = [];
        for (const f of frames) {
          await c.query('SAVEPOINT frame');
          try {
            await commitOne(c, f);
            await c.query('RELEASE SAVEPOINT frame');
            out.push(null);
          } catch (e) {
            await c.query('ROLLBACK TO SAVEPOINT frame');
            out.push(e instanceof Error ? e : new Error(String(e)));
          }
        }
        return out;
      });
    } catch (e) {
      throw new CapanodeError('store-unavailable', `the store could not commit: ${(e as Error).message}`, { hint: 'Check that PostgreSQL is up and has disk space.', cause: e });
    }
  }

  /**
   * Writes every frame's records and moves every head in one statement; false
   * (nothing written) when any head moved meanwhile or any (node, seq) is
   * taken, and the caller commits frame by frame to tell which.
   */
  private async commitAllAtOnce(frames: readonly FrameCommit[]): Promise<boolean> {
    const records = frames.flatMap((f) => f.records);
    for (const f of frames) {
      if (f.records.some((r, i) => r.node !== f.node || r.seq !== f.baseSeq + i + 1)) return false;
    }
    const heads = frames.map((f) => ({ f, last: f.records[f.records.length - 1] as RecordRow }));
    const col = <T>(pick: (x: T) => string | number | null, list: readonly T[]) => list.map(pick);
    try {
      return await this.tx(async (c) => {
        const moved = await c.query<{ moved: number }>(
          `WITH ins AS (
             INSERT INTO records (node, seq, hash, kind, time, canonical, sig, received_at)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bigint[])
             RETURNING 1),
           heads AS (
             UPDATE nodes n SET head_seq = v.seq, head_hash = v.hash, last_seen = greatest(n.last_seen, v.last_seen), skew_ms = coalesce(v.skew, n.skew_ms)
             FROM unnest($9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::bigint[], $14::bigint[]) AS v(node, base, seq, hash, last_seen, skew)
             WHERE n.id = v.node AND n.head_seq = v.base
             RETURNING 1)
           SELECT (SELECT count(*) FROM heads)::bigint AS moved, (SELECT count(*) FROM ins)::bigint AS inserted`,
          [
            col((r) => r.node, records),
            col((r) => r.seq, records),
            col((r) => r.hash, records),
            col((r) => r.kind, records),
            col((r) => r.time, records),
            col((r) => r.canonical, records),
            col((r) => r.sig, records),
            col((r) => r.receivedAt, records),
            col((h) => h.f.node, heads),
            col((h) => h.f.baseSeq, heads),
            col((h) => h.last.seq, heads),
            col((h) => h.last.hash, heads),
            col((h) => h.f.lastSeen, heads),
            col((h) => h.f.skewMs, heads),
          ],
        );
        // A head that moved meanwhile (or two frames of one node in a batch): undo all, and go frame by frame.
        if (Number(moved.rows[0]?.moved) !== frames.length) throw new NotAllAtOnce();
        return true;
      });
    } catch (e) {
      // A (node, seq) already stored, or a head that moved: the frame-by-frame path says which frame.
      if (e instanceof NotAllAtOnce || (e as { code?: string }).code === '23505') return false;
      throw e;
    }
  }

  async insertBeacon(b: BeaconRow): Promise<void> {
    await this.run('INSERT INTO beacons (id, time, message) VALUES ($1, $2, $3)', [b.id, b.time, b.message]);
  }

  async insertChallenge(c: ChallengeRow): Promise<void> {
    await this.run('INSERT INTO challenges (id, node, seed, n, reps, k, deadline_ms, sent_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [c.id, c.node, c.seed, c.n, c.reps, c.k, c.deadlineMs, c.sentAt, c.state]);
  }

  async challengeCommitted(id: string, c: ChallengeCommitted): Promise<void> {
    await this.run("UPDATE challenges SET state = 'opened', root = $1, elapsed_us = $2, device = $3, committed_at = $4, checks = $5, rtt_us = $6 WHERE id = $7 AND state = 'sent'", [
      c.root,
      c.elapsedUs,
      c.device,
      c.committedAt,
      JSON.stringify(c.checks),
      c.rttUs,
      id,
    ]);
  }

  async claimSession(node: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return (await this.run(claimSessionSql((i) => `$${i}`), [node, owner, now + ttlMs, now])) === 1;
  }

  async renewSessions(owner: string, nodes: readonly string[], now: number, ttlMs: number): Promise<void> {
    if (nodes.length === 0) return;
    await this.run('UPDATE session_leases SET expires_at = $1 WHERE owner = $2 AND node = ANY($3::text[])', [now + ttlMs, owner, nodes]);
  }

  async releaseSession(node: string, owner: string): Promise<void> {
    await this.run('DELETE FROM session_leases WHERE node = $1 AND owner = $2', [node, owner]);
  }

  async recordVerdict(v: VerdictRow): Promise<void> {
    await this.tx(async (c) => {
      await c.query("UPDATE challenges SET state = $1 WHERE id = $2 AND state IN ('sent', 'opened')", [v.state, v.challenge]);
      await c.query('INSERT INTO verdicts (challenge, node, ok, gflops, reason, message, at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [v.challenge, v.node, v.ok ? 1 : 0, v.gflops, v.reason, v.message, v.at]);
      if (v.strike) await c.query('UPDATE nodes SET strikes = strikes + 1 WHERE id = $1', [v.node]);
    });
  }
}

async function commitOne(c: Queryable, f: FrameCommit): Promise<void> {
  let seq = f.baseSeq;
  let hash: string | null = null;
  for (const r of f.records) {
    if (r.node !== f.node || r.seq !== seq + 1) {
      throw new CapanodeError('store-unavailable', `frame for ${f.node} is not contiguous at seq ${r.seq}`, { hint: 'a coordinator bug: records must continue the head' });
    }
    await c.query('INSERT INTO records (node, seq, hash, kind, time, canonical, sig, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [r.node, r.seq, r.hash, r.kind, r.time, r.canonical, r.sig, r.receivedAt]);
    seq = r.seq;
    hash = r.hash;
  }
  if (hash !== null) {
    // The head moves only from where the writer saw it: another process that moved it first makes this frame fail, not fork.
    const moved = await c.query('UPDATE nodes SET head_seq = $1, head_hash = $2, last_seen = greatest(last_seen, $3), skew_ms = coalesce($4, skew_ms) WHERE id = $5 AND head_seq = $6', [seq, hash, f.lastSeen, f.skewMs, f.node, f.baseSeq]);
    if (moved.rowCount !== 1) {
      throw new CapanodeError('store-unavailable', `the stored head of ${f.node} is no longer seq ${f.baseSeq}`, { hint: 'Another coordinator process wrote this node\'s records first; the node resends from the new head.' });
    }
  } else {
    await c.query('UPDATE nodes SET last_seen = greatest(last_seen, $1), skew_ms = coalesce($2, skew_ms) WHERE id = $3', [f.lastSeen, f.skewMs, f.node]);
  }
  const e = f.equivocation;
  if (e !== null) {
    await c.query(
      `INSERT INTO equivocations (node, seq, first_hash, first_canonical, first_sig, second_hash, second_canonical, second_sig, detected_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [e.node, e.seq, e.first.hash, e.first.canonical, e.first.sig, e.second.hash, e.second.canonical, e.second.sig, e.detectedAt],
    );
    await c.query('UPDATE nodes SET banned = 1, ban_reason = coalesce(ban_reason, $1) WHERE id = $2', [`equivocation at seq ${e.seq}`, e.node]);
  }
}

class NotAllAtOnce extends Error {}

export function openPostgresStore(url: string): PostgresStore {
  return new PostgresStore(url);
}
