/**
 * The ledger half of the SQLite store (ledger-types.ts): epochs, ledger
 * rows, stake credits and claims, over the same database and the same
 * durability settings as the records. JSON columns hold what the reward
 * engine produced (facts, payouts, penalty lines), as it produced them.
 */
import type Database from 'better-sqlite3';
import type { ClaimRefusedCode } from '../../proofs/messages.js';
import type {
  ClaimRow,
  EpochClose,
  EpochNode,
  EpochRow,
  EpochSchedule,
  EquivocationFact,
  LedgerDetail,
  LedgerEntry,
  LedgerFilter,
  LedgerStore,
  StakeCredit,
  UptimeRecordFact,
  VerdictRecordFact,
} from './ledger-types.js';
import type { RecordRow } from './types.js';
import { SqliteJobs } from './sqlite-jobs.js';

/** Schema version 2 (appended to sqlite.ts MIGRATIONS). */
export const LEDGER_MIGRATION = `
  CREATE INDEX beacons_time ON beacons (time);
  CREATE INDEX records_kind_received ON records (kind, received_at);
  CREATE INDEX verdicts_at ON verdicts (at);
  CREATE TABLE epoch_schedule (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    genesis_ms INTEGER NOT NULL,
    epoch_ms   INTEGER NOT NULL
  );
  CREATE TABLE epochs (
    idx         INTEGER PRIMARY KEY,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    until_ms    INTEGER NOT NULL,
    inputs_hash TEXT NOT NULL,
    carry_in    INTEGER NOT NULL,
    carry_out   INTEGER NOT NULL,
    budget      INTEGER NOT NULL,
    payouts     INTEGER NOT NULL,
    slashed     INTEGER NOT NULL,
    forfeited   INTEGER NOT NULL,
    burned      INTEGER NOT NULL,
    nodes       INTEGER NOT NULL,
    closed_at   INTEGER NOT NULL,
    params      TEXT NOT NULL,
    summary     TEXT NOT NULL
  );
  CREATE TABLE ledger (
    epoch            INTEGER NOT NULL REFERENCES epochs (idx),
    node             TEXT NOT NULL,
    end_ms           INTEGER NOT NULL,
    earned           INTEGER NOT NULL,
    slashed          INTEGER NOT NULL,
    forfeited        INTEGER NOT NULL,
    stake_after      INTEGER NOT NULL,
    reputation_after INTEGER NOT NULL,
    banned           INTEGER NOT NULL,
    penalties        TEXT NOT NULL,
    facts            TEXT NOT NULL,
    payout           TEXT NOT NULL,
    PRIMARY KEY (node, epoch)
  );
  CREATE INDEX ledger_epoch ON ledger (epoch, node);
  CREATE TABLE stake_credits (
    ref    TEXT PRIMARY KEY,
    node   TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    at     INTEGER NOT NULL,
    source TEXT NOT NULL,
    note   TEXT
  );
  CREATE INDEX stake_credits_node ON stake_credits (node, at);
  CREATE TABLE claims (
    node        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    requested   INTEGER NOT NULL,
    to_address  TEXT NOT NULL,
    first_epoch INTEGER NOT NULL,
    last_epoch  INTEGER NOT NULL,
    paid        INTEGER NOT NULL,
    code        TEXT,
    decided_at  INTEGER NOT NULL,
    message     TEXT NOT NULL,
    PRIMARY KEY (node, seq),
    FOREIGN KEY (node, seq) REFERENCES records (node, seq)
  );
  CREATE TABLE claim_allocations (
    node   TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    epoch  INTEGER NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (node, seq, epoch),
    FOREIGN KEY (node, seq) REFERENCES claims (node, seq)
  );
`;

export interface EpochDbRow {
  idx: number;
  start_ms: number;
  end_ms: number;
  until_ms: number;
  inputs_hash: string;
  carry_in: number;
  carry_out: number;
  budget: number;
  payouts: number;
  slashed: number;
  forfeited: number;
  burned: number;
  nodes: number;
  closed_at: number;
  params: string;
  summary: string;
}

export interface LedgerDbRow {
  epoch: number;
  node: string;
  end_ms: number;
  earned: number;
  slashed: number;
  forfeited: number;
  stake_after: number;
  reputation_after: number;
  banned: number;
  penalties: string;
  facts?: string;
  payout?: string;
}

export interface ClaimDbRow {
  node: string;
  seq: number;
  hash: string;
  requested: number;
  to_address: string;
  first_epoch: number;
  last_epoch: number;
  paid: number;
  code: string | null;
  decided_at: number;
  message: string;
  allocations: string | null;
}

export function toEpochRow(r: EpochDbRow): EpochRow {
  return {
    index: r.idx,
    startMs: r.start_ms,
    endMs: r.end_ms,
    untilMs: r.until_ms,
    inputsHash: r.inputs_hash,
    carryIn: r.carry_in,
    carryOut: r.carry_out,
    budget: r.budget,
    payouts: r.payouts,
    slashed: r.slashed,
    forfeited: r.forfeited,
    burned: r.burned,
    nodes: r.nodes,
    closedAt: r.closed_at,
    params: JSON.parse(r.params) as EpochRow['params'],
    summary: JSON.parse(r.summary) as EpochRow['summary'],
  };
}

export function toEntry(r: LedgerDbRow): LedgerEntry {
  return {
    epoch: r.epoch,
    node: r.node,
    endMs: r.end_ms,
    earned: r.earned,
    slashed: r.slashed,
    forfeited: r.forfeited,
    stakeAfter: r.stake_after,
    reputationAfter: r.reputation_after,
    banned: r.banned === 1,
    penalties: JSON.parse(r.penalties) as LedgerEntry['penalties'],
  };
}

export function toDetail(r: LedgerDbRow): LedgerDetail {
  return { ...toEntry(r), facts: JSON.parse(r.facts ?? 'null') as LedgerDetail['facts'], payout: JSON.parse(r.payout ?? 'null') as LedgerDetail['payout'] };
}

export function toClaim(r: ClaimDbRow): ClaimRow {
  return {
    node: r.node,
    seq: r.seq,
    hash: r.hash,
    requested: r.requested,
    to: r.to_address,
    epochs: [r.first_epoch, r.last_epoch],
    paid: r.paid,
    code: r.code as ClaimRefusedCode | null,
    decidedAt: r.decided_at,
    message: r.message,
    allocations: r.allocations === null ? [] : (JSON.parse(r.allocations) as ClaimRow['allocations']).sort((a, b) => a.epoch - b.epoch),
  };
}

const LEDGER_COLUMNS = 'epoch, node, end_ms, earned, slashed, forfeited, stake_after, reputation_after, banned, penalties';
// One statement with a node and one without: "node = ? OR ? IS NULL" would keep SQLite off the (node, epoch) key.
const LEDGER_OF_NODE = 'WHERE node = @node AND epoch BETWEEN @from AND @to ORDER BY epoch';
const LEDGER_OF_ALL = 'WHERE epoch BETWEEN @from AND @to ORDER BY epoch, node';
const CLAIM_SELECT = `
  SELECT c.*, (SELECT json_group_array(json_object('epoch', a.epoch, 'amount', a.amount)) FROM claim_allocations a WHERE a.node = c.node AND a.seq = c.seq) AS allocations
  FROM claims c`;

export function filterParams(filter: LedgerFilter): { node?: string; from: number; to: number } {
  return { ...(filter.node === undefined ? {} : { node: filter.node }), from: filter.fromEpoch ?? 0, to: filter.toEpoch ?? Number.MAX_SAFE_INTEGER };
}

export class SqliteLedger extends SqliteJobs implements LedgerStore {
  private readonly ledgerStmts;
  private readonly writeClose: (close: EpochClose) => boolean;
  private readonly writeClaim: (claim: ClaimRow) => boolean;

  constructor(db: Database.Database) {
    super(db);
    this.ledgerStmts = {
      schedule: db.prepare('SELECT genesis_ms AS genesisMs, epoch_ms AS epochMs FROM epoch_schedule WHERE id = 1'),
      insertSchedule: db.prepare('INSERT INTO epoch_schedule (id, genesis_ms, epoch_ms) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING'),
      epochNodes: db.prepare(
        'SELECT n.id AS id, n.first_seen AS firstSeen, (SELECT min(e.detected_at) FROM equivocations e WHERE e.node = n.id) AS bannedAt FROM nodes n WHERE n.first_seen < ? ORDER BY n.id',
      ),
      // "Beacons after" is counted only up to 2: freshness asks whether it is 0 or 1.
      uptime: db.prepare(`
        SELECT r.node AS node, r.received_at AS receivedAt,
          json_extract(r.canonical, '$.body.from') AS "from", json_extract(r.canonical, '$.body.to') AS "to",
          b.time AS beaconTime,
          CASE WHEN b.id IS NULL THEN NULL ELSE
            (SELECT count(*) FROM (SELECT 1 FROM beacons b2 WHERE b2.time > b.time AND b2.time <= r.received_at LIMIT 2)) END AS beaconsAfter
        FROM records r LEFT JOIN beacons b ON b.id = json_extract(r.canonical, '$.body.beacon')
        WHERE r.kind = 'uptime' AND r.received_at >= ? AND r.received_at < ?
        ORDER BY r.node, r.seq`),
      // A verdict the coordinator could not check (reason "coordinator-error: ...") counts neither way.
      // The window before the epoch is read per node from the (node, at) index, however old it is.
      verdicts: db.prepare(`
        SELECT node, at, ok, gflops, reason FROM verdicts
        WHERE at >= @start AND at < @end AND (reason IS NULL OR reason NOT LIKE 'coordinator-error:%')
        UNION ALL
        SELECT v.node, v.at, v.ok, v.gflops, v.reason FROM nodes n JOIN verdicts v ON v.rowid IN (
          SELECT w.rowid FROM verdicts w WHERE w.node = n.id AND w.at < @start AND (w.reason IS NULL OR w.reason NOT LIKE 'coordinator-error:%')
          ORDER BY w.at DESC, w.rowid DESC LIMIT @previous)`),
      equivocations: db.prepare(
        'SELECT node, seq, first_hash AS firstHash, second_hash AS secondHash, detected_at AS detectedAt FROM equivocations WHERE detected_at >= ? AND detected_at < ? ORDER BY node, seq, second_hash',
      ),
      stake: db.prepare('SELECT ref, node, amount, at, source, note FROM stake_credits WHERE at < ? ORDER BY node, at, ref'),
      stakeOfNode: db.prepare('SELECT ref, node, amount, at, source, note FROM stake_credits WHERE node = ? AND at < ? ORDER BY at, ref'),
      credit: db.prepare('INSERT INTO stake_credits (ref, node, amount, at, source, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING'),
      epoch: db.prepare('SELECT * FROM epochs WHERE idx = ?'),
      lastEpoch: db.prepare('SELECT * FROM epochs ORDER BY idx DESC LIMIT 1'),
      epochs: db.prepare('SELECT * FROM epochs ORDER BY idx'),
      insertEpoch: db.prepare(`INSERT INTO epochs (idx, start_ms, end_ms, until_ms, inputs_hash, carry_in, carry_out, budget, payouts, slashed, forfeited, burned, nodes, closed_at, params, summary)
        VALUES (@index, @startMs, @endMs, @untilMs, @inputsHash, @carryIn, @carryOut, @budget, @payouts, @slashed, @forfeited, @burned, @nodes, @closedAt, @params, @summary) ON CONFLICT (idx) DO NOTHING`),
      insertLedger: db.prepare(`INSERT INTO ledger (epoch, node, end_ms, earned, slashed, forfeited, stake_after, reputation_after, banned, penalties, facts, payout)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      entries: db.prepare(`SELECT ${LEDGER_COLUMNS} FROM ledger ${LEDGER_OF_ALL}`),
      entriesOfNode: db.prepare(`SELECT ${LEDGER_COLUMNS} FROM ledger ${LEDGER_OF_NODE}`),
      details: db.prepare(`SELECT ${LEDGER_COLUMNS}, facts, payout FROM ledger ${LEDGER_OF_ALL}`),
      detailsOfNode: db.prepare(`SELECT ${LEDGER_COLUMNS}, facts, payout FROM ledger ${LEDGER_OF_NODE}`),
      slashed: db.prepare('SELECT node, sum(slashed) AS total FROM ledger WHERE epoch < ? GROUP BY node HAVING total > 0'),
      claim: db.prepare(`${CLAIM_SELECT} WHERE c.node = ? AND c.seq = ?`),
      claims: db.prepare(`${CLAIM_SELECT} ORDER BY c.node, c.seq`),
      claimsOfNode: db.prepare(`${CLAIM_SELECT} WHERE c.node = ? ORDER BY c.seq`),
      insertClaim: db.prepare(`INSERT INTO claims (node, seq, hash, requested, to_address, first_epoch, last_epoch, paid, code, decided_at, message)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node, seq) DO NOTHING`),
      insertAllocation: db.prepare('INSERT INTO claim_allocations (node, seq, epoch, amount) VALUES (?, ?, ?, ?)'),
      undecided: db.prepare(`SELECT r.node, r.seq, r.hash, r.kind, r.time, r.canonical, r.sig, r.received_at AS receivedAt FROM records r
        WHERE r.kind = 'claim' AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.node = r.node AND c.seq = r.seq) ORDER BY r.node, r.seq`),
    };
    const s = this.ledgerStmts;
    this.writeClose = db.transaction((close: EpochClose): boolean => {
      const e = close.epoch;
      const inserted = s.insertEpoch.run({ ...e, params: JSON.stringify(e.params), summary: JSON.stringify(e.summary) }).changes === 1;
      if (!inserted) return false;
      for (const r of close.rows) {
        s.insertLedger.run(r.epoch, r.node, r.endMs, r.earned, r.slashed, r.forfeited, r.stakeAfter, r.reputationAfter, r.banned ? 1 : 0, JSON.stringify(r.penalties), JSON.stringify(r.facts), JSON.stringify(r.payout));
      }
      return true;
    });
    this.writeClaim = db.transaction((c: ClaimRow): boolean => {
      if (s.insertClaim.run(c.node, c.seq, c.hash, c.requested, c.to, c.epochs[0], c.epochs[1], c.paid, c.code, c.decidedAt, c.message).changes !== 1) return false;
      for (const a of c.allocations) s.insertAllocation.run(c.node, c.seq, a.epoch, a.amount);
      return true;
    });
  }

  epochSchedule(proposed: EpochSchedule): Promise<EpochSchedule> {
    this.ledgerStmts.insertSchedule.run(proposed.genesisMs, proposed.epochMs);
    return Promise.resolve(this.ledgerStmts.schedule.get() as EpochSchedule);
  }

  epochNodes(beforeMs: number): Promise<EpochNode[]> {
    return Promise.resolve(this.ledgerStmts.epochNodes.all(beforeMs) as EpochNode[]);
  }

  uptimeFacts(fromMs: number, untilMs: number): Promise<UptimeRecordFact[]> {
    return Promise.resolve(this.ledgerStmts.uptime.all(fromMs, untilMs) as UptimeRecordFact[]);
  }

  verdictFacts(startMs: number, endMs: number, previous: number): Promise<VerdictRecordFact[]> {
    const rows = this.ledgerStmts.verdicts.all({ start: startMs, end: endMs, previous }) as (Omit<VerdictRecordFact, 'ok'> & { ok: number })[];
    return Promise.resolve(rows.map((r) => ({ ...r, ok: r.ok === 1 })));
  }

  equivocationFacts(fromMs: number, untilMs: number): Promise<EquivocationFact[]> {
    return Promise.resolve(this.ledgerStmts.equivocations.all(fromMs, untilMs) as EquivocationFact[]);
  }

  stakeCredits(beforeMs: number, node?: string): Promise<StakeCredit[]> {
    const s = this.ledgerStmts;
    return Promise.resolve((node === undefined ? s.stake.all(beforeMs) : s.stakeOfNode.all(node, beforeMs)) as StakeCredit[]);
  }

  creditStake(c: StakeCredit): Promise<boolean> {
    return Promise.resolve(this.ledgerStmts.credit.run(c.ref, c.node, c.amount, c.at, c.source, c.note).changes === 1);
  }

  getEpoch(index: number): Promise<EpochRow | null> {
    const row = this.ledgerStmts.epoch.get(index) as EpochDbRow | undefined;
    return Promise.resolve(row === undefined ? null : toEpochRow(row));
  }

  lastClosedEpoch(): Promise<EpochRow | null> {
    const row = this.ledgerStmts.lastEpoch.get() as EpochDbRow | undefined;
    return Promise.resolve(row === undefined ? null : toEpochRow(row));
  }

  listEpochs(): Promise<EpochRow[]> {
    return Promise.resolve((this.ledgerStmts.epochs.all() as EpochDbRow[]).map(toEpochRow));
  }

  closeEpoch(close: EpochClose): Promise<boolean> {
    return Promise.resolve(this.writeClose(close));
  }

  ledgerEntries(filter: LedgerFilter = {}): Promise<LedgerEntry[]> {
    const stmt = filter.node === undefined ? this.ledgerStmts.entries : this.ledgerStmts.entriesOfNode;
    return Promise.resolve((stmt.all(filterParams(filter)) as LedgerDbRow[]).map(toEntry));
  }

  ledgerDetails(filter: LedgerFilter = {}): Promise<LedgerDetail[]> {
    const stmt = filter.node === undefined ? this.ledgerStmts.details : this.ledgerStmts.detailsOfNode;
    return Promise.resolve((stmt.all(filterParams(filter)) as LedgerDbRow[]).map(toDetail));
  }

  slashedTotals(beforeEpoch: number): Promise<Map<string, number>> {
    const rows = this.ledgerStmts.slashed.all(beforeEpoch) as { node: string; total: number }[];
    return Promise.resolve(new Map(rows.map((r) => [r.node, r.total])));
  }

  getClaim(node: string, seq: number): Promise<ClaimRow | null> {
    const row = this.ledgerStmts.claim.get(node, seq) as ClaimDbRow | undefined;
    return Promise.resolve(row === undefined ? null : toClaim(row));
  }

  listClaims(node?: string): Promise<ClaimRow[]> {
    const s = this.ledgerStmts;
    return Promise.resolve(((node === undefined ? s.claims.all() : s.claimsOfNode.all(node)) as ClaimDbRow[]).map(toClaim));
  }

  recordClaim(claim: ClaimRow): Promise<boolean> {
    return Promise.resolve(this.writeClaim(claim));
  }

  undecidedClaims(): Promise<RecordRow[]> {
    return Promise.resolve(this.ledgerStmts.undecided.all() as RecordRow[]);
  }
}
