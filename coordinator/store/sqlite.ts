/**
 * The default ledger store: one SQLite file (better-sqlite3), WAL with
 * synchronous=FULL, read back on every open (DESIGN §9): a commit has
 * reached the disk when it returns, and an ack follows only that.
 *
 * better-sqlite3 is synchronous; commitFrames batches the frames of every
 * session that is ready into one transaction, so one fsync serves many
 * frames, and a savepoint per frame keeps one bad frame from sinking the rest.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CapanodeError } from '../../common/errors.js';
import { InventorySchema } from '../../proofs/messages.js';
import type {
  BeaconRow,
  ChallengeCommitted,
  ChallengeRow,
  FrameCommit,
  NodeInfo,
  NodeSeen,
  RecordRow,
  Store,
  VerdictRow,
} from './types.js';
import { LEDGER_MIGRATION, SqliteLedger } from './sqlite-ledger.js';
import { JOBS_MIGRATION } from './sqlite-jobs.js';
import { claimSessionSql, SESSIONS_MIGRATION } from './session-types.js';

/** Schema versions in order; index i migrates user_version i to i + 1. Append, never edit. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE nodes (
    id          TEXT PRIMARY KEY,
    head_seq    INTEGER NOT NULL DEFAULT 0,
    head_hash   TEXT,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    connected   INTEGER NOT NULL DEFAULT 0,
    banned      INTEGER NOT NULL DEFAULT 0,
    ban_reason  TEXT,
    strikes     INTEGER NOT NULL DEFAULT 0,
    skew_ms     INTEGER,
    agent       TEXT,
    inventory   TEXT
  );
  CREATE TABLE records (
    node        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    time        INTEGER NOT NULL,
    canonical   TEXT NOT NULL,
    sig         TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (node, seq)
  );
  CREATE TABLE equivocations (
    node             TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    first_hash       TEXT NOT NULL,
    first_canonical  TEXT NOT NULL,
    first_sig        TEXT NOT NULL,
    second_hash      TEXT NOT NULL,
    second_canonical TEXT NOT NULL,
    second_sig       TEXT NOT NULL,
    detected_at      INTEGER NOT NULL,
    PRIMARY KEY (node, seq, second_hash)
  );
  CREATE TABLE beacons (
    id      TEXT PRIMARY KEY,
    time    INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE TABLE challenges (
    id           TEXT PRIMARY KEY,
    node         TEXT NOT NULL,
    seed         TEXT NOT NULL,
    n            INTEGER NOT NULL,
    reps         INTEGER NOT NULL,
    k            INTEGER NOT NULL,
    deadline_ms  INTEGER NOT NULL,
    sent_at      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    root         TEXT,
    elapsed_us   INTEGER,
    device       TEXT,
    committed_at INTEGER,
    checks       TEXT,
    rtt_us       INTEGER
  );
  CREATE INDEX challenges_node ON challenges (node, sent_at);
  CREATE TABLE verdicts (
    challenge TEXT PRIMARY KEY REFERENCES challenges (id),
    node      TEXT NOT NULL,
    ok        INTEGER NOT NULL,
    gflops    INTEGER NOT NULL,
    reason    TEXT,
    message   TEXT NOT NULL,
    at        INTEGER NOT NULL
  );
  CREATE INDEX verdicts_node ON verdicts (node, at);
  `,
  // 2: epochs, the ledger, stake credits and claims.
  LEDGER_MIGRATION,
  // 3: jobs and usage judgements.
  JOBS_MIGRATION,
  // 4: session leases across coordinator processes.
  SESSIONS_MIGRATION,
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

export interface NodeDbRow {
  id: string;
  head_seq: number;
  head_hash: string | null;
  first_seen: number;
  last_seen: number;
  connected: number;
  banned: number;
  ban_reason: string | null;
  strikes: number;
  skew_ms: number | null;
  agent: string | null;
  inventory: string | null;
  gflops: number | null;
  verdict_at: number | null;
}

export function toNodeInfo(row: NodeDbRow): NodeInfo {
  let inventory: NodeInfo['inventory'] = null;
  if (row.inventory !== null) {
    const parsed = InventorySchema.safeParse(JSON.parse(row.inventory));
    inventory = parsed.success ? parsed.data : null;
  }
  return {
    id: row.id,
    headSeq: row.head_seq,
    headHash: row.head_hash,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    connected: row.connected === 1,
    banned: row.banned === 1,
    banReason: row.ban_reason,
    strikes: row.strikes,
    skewMs: row.skew_ms,
    agent: row.agent,
    inventory,
    gflops: row.gflops,
    lastVerdictAt: row.verdict_at,
  };
}

const NODE_SELECT = `
  SELECT n.*, v.gflops AS gflops, v.at AS verdict_at
  FROM nodes n
  LEFT JOIN verdicts v ON v.rowid = (SELECT rowid FROM verdicts WHERE node = n.id ORDER BY at DESC, rowid DESC LIMIT 1)`;

/** Opens (creating if needed) a SQLite store and asserts its durability settings. */
export function openSqliteStore(file: string, options: { readonly?: boolean } = {}): SqliteStore {
  const readonly = options.readonly === true;
  if (!readonly) mkdirSync(dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly });
  } catch (e) {
    throw new CapanodeError('io-error', `cannot open the coordinator store ${file}: ${(e as Error).message}`, {
      hint: readonly ? 'Pass the --store the coordinator serves from (sqlite:FILE).' : 'Check that the directory exists and is writable by this user.',
      cause: e,
    });
  }
  try {
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const mode = db.pragma('journal_mode', { simple: true });
      const sync = db.pragma('synchronous', { simple: true });
      if (mode !== 'wal' || sync !== 2) {
        throw new CapanodeError('store-durability', `the store ${file} runs with journal_mode=${String(mode)} synchronous=${String(sync)}, not WAL and FULL`, {
          hint: 'Put the store on a local filesystem that supports WAL (not a network share or tmpfs without shared memory).',
        });
      }
    }
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db, file, readonly);
  } catch (e) {
    db.close();
    throw e;
  }
  return new SqliteStore(db, file);
}

function migrate(db: Database.Database, file: string, readonly: boolean): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SQLITE_MIGRATIONS.length) {
    throw new CapanodeError('store-schema', `the store ${file} has schema version ${version}; this coordinator knows up to ${SQLITE_MIGRATIONS.length}`, {
      hint: 'Run a newer capanode-coordinator, or restore a backup made by this version.',
    });
  }
  if (version === SQLITE_MIGRATIONS.length) return;
  if (readonly) {
    throw new CapanodeError('store-schema', `the store ${file} has schema version ${version}, older than ${SQLITE_MIGRATIONS.length}`, { hint: 'Start `capanode-coordinator serve` on it once to migrate it.' });
  }
  db.transaction(() => {
    for (let v = version; v < SQLITE_MIGRATIONS.length; v++) db.exec(SQLITE_MIGRATIONS[v] as string);
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
  })();
}

export class SqliteStore extends SqliteLedger implements Store {
  readonly description: string;
  private readonly stmts;
  private readonly commitOne: (frame: FrameCommit) => void;
  private readonly commitAll: (frames: readonly FrameCommit[]) => (Error | null)[];

  constructor(db: Database.Database, file: string) {
    super(db);
    this.description = `sqlite:${file}`;
    this.stmts = {
      node: db.prepare(`${NODE_SELECT} WHERE n.id = ?`),
      nodes: db.prepare(`${NODE_SELECT} ORDER BY n.id`),
      createNode: db.prepare('INSERT INTO nodes (id, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING'),
      connectNode: db.prepare('UPDATE nodes SET connected = 1, last_seen = ?, agent = ?, inventory = ? WHERE id = ?'),
      disconnectNode: db.prepare('UPDATE nodes SET connected = 0, last_seen = max(last_seen, ?) WHERE id = ?'),
      resetConnected: db.prepare('UPDATE nodes SET connected = 0 WHERE connected = 1'),
      hashes: db.prepare('SELECT seq, hash FROM records WHERE node = ? AND seq BETWEEN ? AND ?'),
      record: db.prepare('SELECT node, seq, hash, kind, time, canonical, sig, received_at AS receivedAt FROM records WHERE node = ? AND seq = ?'),
      insertRecord: db.prepare('INSERT INTO records (node, seq, hash, kind, time, canonical, sig, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      moveHead: db.prepare('UPDATE nodes SET head_seq = ?, head_hash = ?, last_seen = max(last_seen, ?), skew_ms = coalesce(?, skew_ms) WHERE id = ? AND head_seq = ?'),
      touchNode: db.prepare('UPDATE nodes SET last_seen = max(last_seen, ?), skew_ms = coalesce(?, skew_ms) WHERE id = ?'),
      insertEquivocation: db.prepare(`INSERT INTO equivocations (node, seq, first_hash, first_canonical, first_sig, second_hash, second_canonical, second_sig, detected_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      ban: db.prepare('UPDATE nodes SET banned = 1, ban_reason = coalesce(ban_reason, ?) WHERE id = ?'),
      insertBeacon: db.prepare('INSERT INTO beacons (id, time, message) VALUES (?, ?, ?)'),
      insertChallenge: db.prepare('INSERT INTO challenges (id, node, seed, n, reps, k, deadline_ms, sent_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      commitChallenge: db.prepare(
        "UPDATE challenges SET state = 'opened', root = ?, elapsed_us = ?, device = ?, committed_at = ?, checks = ?, rtt_us = ? WHERE id = ? AND state = 'sent'",
      ),
      finishChallenge: db.prepare("UPDATE challenges SET state = ? WHERE id = ? AND state IN ('sent', 'opened')"),
      insertVerdict: db.prepare('INSERT INTO verdicts (challenge, node, ok, gflops, reason, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      strike: db.prepare('UPDATE nodes SET strikes = strikes + 1 WHERE id = ?'),
      claimSession: db.prepare(claimSessionSql(() => '?')),
      renewSession: db.prepare('UPDATE session_leases SET expires_at = ? WHERE node = ? AND owner = ?'),
      releaseSession: db.prepare('DELETE FROM session_leases WHERE node = ? AND owner = ?'),
      clearSessions: db.prepare('DELETE FROM session_leases'),
    };
    const s = this.stmts;
    this.commitOne = db.transaction((f: FrameCommit) => {
      let seq = f.baseSeq;
      let hash: string | null = null;
      for (const r of f.records) {
        if (r.node !== f.node || r.seq !== seq + 1) {
          throw new CapanodeError('store-unavailable', `frame for ${f.node} is not contiguous at seq ${r.seq}`, { hint: 'a coordinator bug: records must continue the head' });
        }
        s.insertRecord.run(r.node, r.seq, r.hash, r.kind, r.time, r.canonical, r.sig, r.receivedAt);
        seq = r.seq;
        hash = r.hash;
      }
      if (hash !== null) {
        // The head moves only from where the writer saw it: a second writer on this file fails here instead of forking the ledger.
        if (s.moveHead.run(seq, hash, f.lastSeen, f.skewMs, f.node, f.baseSeq).changes !== 1) {
          throw new CapanodeError('store-unavailable', `the stored head of ${f.node} is no longer seq ${f.baseSeq}`, {
            hint: 'Another coordinator process writes to the same store; run one per store.',
          });
        }
      } else {
        s.touchNode.run(f.lastSeen, f.skewMs, f.node);
      }
      const e = f.equivocation;
      if (e !== null) {
        s.insertEquivocation.run(e.node, e.seq, e.first.hash, e.first.canonical, e.first.sig, e.second.hash, e.second.canonical, e.second.sig, e.detectedAt);
        s.ban.run(`equivocation at seq ${e.seq}`, e.node);
      }
    });
    this.commitAll = db.transaction((frames: readonly FrameCommit[]) =>
      frames.map((f) => {
        try {
          this.commitOne(f);
          return null;
        } catch (e) {
          // Errors such as SQLITE_FULL roll back the whole transaction: then nothing was written.
          if (!this.db.inTransaction) throw e;
          return e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
  }

  nodeConnected(node: string, seen: NodeSeen): Promise<NodeInfo> {
    this.db.transaction(() => {
      this.stmts.createNode.run(node, seen.at, seen.at);
      this.stmts.connectNode.run(seen.at, seen.agent, JSON.stringify(seen.inventory), node);
    })();
    return Promise.resolve(toNodeInfo(this.stmts.node.get(node) as NodeDbRow));
  }

  nodeDisconnected(node: string, at: number): Promise<void> {
    this.stmts.disconnectNode.run(at, node);
    return Promise.resolve();
  }

  /** At startup. A SQLite store serves one coordinator process, so the one starting also takes back every session lease a crashed predecessor left. */
  resetConnected(): Promise<void> {
    this.db.transaction(() => {
      this.stmts.resetConnected.run();
      this.stmts.clearSessions.run();
    })();
    return Promise.resolve();
  }

  getNode(node: string): Promise<NodeInfo | null> {
    const row = this.stmts.node.get(node) as NodeDbRow | undefined;
    return Promise.resolve(row === undefined ? null : toNodeInfo(row));
  }

  listNodes(): Promise<NodeInfo[]> {
    return Promise.resolve((this.stmts.nodes.all() as NodeDbRow[]).map(toNodeInfo));
  }

  storedHashes(node: string, from: number, to: number): Promise<Map<number, string>> {
    const rows = this.stmts.hashes.all(node, from, to) as { seq: number; hash: string }[];
    return Promise.resolve(new Map(rows.map((r) => [r.seq, r.hash])));
  }

  getRecord(node: string, seq: number): Promise<RecordRow | null> {
    return Promise.resolve((this.stmts.record.get(node, seq) as RecordRow | undefined) ?? null);
  }

  commitFrames(frames: readonly FrameCommit[]): Promise<(Error | null)[]> {
    try {
      return Promise.resolve(this.commitAll(frames));
    } catch (e) {
      return Promise.reject(new CapanodeError('store-unavailable', `the store could not commit: ${(e as Error).message}`, { hint: 'Check free disk space and that the store file is writable.', cause: e }));
    }
  }

  insertBeacon(beacon: BeaconRow): Promise<void> {
    this.stmts.insertBeacon.run(beacon.id, beacon.time, beacon.message);
    return Promise.resolve();
  }

  insertChallenge(c: ChallengeRow): Promise<void> {
    this.stmts.insertChallenge.run(c.id, c.node, c.seed, c.n, c.reps, c.k, c.deadlineMs, c.sentAt, c.state);
    return Promise.resolve();
  }

  challengeCommitted(id: string, c: ChallengeCommitted): Promise<void> {
    this.stmts.commitChallenge.run(c.root, c.elapsedUs, c.device, c.committedAt, JSON.stringify(c.checks), c.rttUs, id);
    return Promise.resolve();
  }

  recordVerdict(v: VerdictRow): Promise<void> {
    this.db.transaction(() => {
      this.stmts.finishChallenge.run(v.state, v.challenge);
      this.stmts.insertVerdict.run(v.challenge, v.node, v.ok ? 1 : 0, v.gflops, v.reason, v.message, v.at);
      if (v.strike) this.stmts.strike.run(v.node);
    })();
    return Promise.resolve();
  }

  claimSession(node: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return Promise.resolve(this.stmts.claimSession.run(node, owner, now + ttlMs, now).changes === 1);
  }

  renewSessions(owner: string, nodes: readonly string[], now: number, ttlMs: number): Promise<void> {
    this.db.transaction(() => {
      for (const node of nodes) this.stmts.renewSession.run(now + ttlMs, node, owner);
    })();
    return Promise.resolve();
  }

  releaseSession(node: string, owner: string): Promise<void> {
    this.stmts.releaseSession.run(node, owner);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
