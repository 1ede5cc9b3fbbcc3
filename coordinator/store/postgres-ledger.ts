/**
 * The ledger half of the PostgreSQL store (ledger-types.ts): the SQLite
 * ledger's queries in PostgreSQL's dialect (JSON through jsonb, the verdict
 * window by its serial id), with the same row mappers.
 */
import type { ClaimRow, EpochClose, EpochNode, EpochRow, EpochSchedule, EquivocationFact, LedgerDetail, LedgerEntry, LedgerFilter, LedgerStore, StakeCredit, UptimeRecordFact, VerdictRecordFact } from './ledger-types.js';
import { PgJobs } from './postgres-jobs.js';
import { filterParams, toClaim, toDetail, toEntry, toEpochRow, type ClaimDbRow, type EpochDbRow, type LedgerDbRow } from './sqlite-ledger.js';
import type { RecordRow } from './types.js';

const LEDGER_COLUMNS = 'epoch, node, end_ms, earned, slashed, forfeited, stake_after, reputation_after, banned, penalties';
const CLAIM_SELECT = `
  SELECT c.*, (SELECT json_agg(json_build_object('epoch', a.epoch, 'amount', a.amount))::text FROM claim_allocations a WHERE a.node = c.node AND a.seq = c.seq) AS allocations
  FROM claims c`;
const NOT_COORDINATOR_ERROR = "(reason IS NULL OR reason NOT LIKE 'coordinator-error:%')";

export class PgLedger extends PgJobs implements LedgerStore {
  async epochSchedule(proposed: EpochSchedule): Promise<EpochSchedule> {
    await this.run('INSERT INTO epoch_schedule (id, genesis_ms, epoch_ms) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [proposed.genesisMs, proposed.epochMs]);
    const [row] = await this.rows<EpochSchedule>('SELECT genesis_ms AS "genesisMs", epoch_ms AS "epochMs" FROM epoch_schedule WHERE id = 1');
    return row as EpochSchedule;
  }

  epochNodes(beforeMs: number): Promise<EpochNode[]> {
    return this.rows<EpochNode>(
      'SELECT n.id AS id, n.first_seen AS "firstSeen", (SELECT min(e.detected_at) FROM equivocations e WHERE e.node = n.id) AS "bannedAt" FROM nodes n WHERE n.first_seen < $1 ORDER BY n.id',
      [beforeMs],
    );
  }

  uptimeFacts(fromMs: number, untilMs: number): Promise<UptimeRecordFact[]> {
    return this.rows<UptimeRecordFact>(
      `SELECT r.node AS node, r.received_at AS "receivedAt",
         (r.canonical::jsonb #>> '{body,from}')::bigint AS "from", (r.canonical::jsonb #>> '{body,to}')::bigint AS "to",
         b.time AS "beaconTime",
         CASE WHEN b.id IS NULL THEN NULL ELSE
           (SELECT count(*) FROM (SELECT 1 FROM beacons b2 WHERE b2.time > b.time AND b2.time <= r.received_at LIMIT 2) x)::bigint END AS "beaconsAfter"
       FROM records r LEFT JOIN beacons b ON b.id = (r.canonical::jsonb #>> '{body,beacon}')
       WHERE r.kind = 'uptime' AND r.received_at >= $1 AND r.received_at < $2
       ORDER BY r.node, r.seq`,
      [fromMs, untilMs],
    );
  }

  async verdictFacts(startMs: number, endMs: number, previous: number): Promise<VerdictRecordFact[]> {
    const rows = await this.rows<Omit<VerdictRecordFact, 'ok'> & { ok: number }>(
      `SELECT node, at, ok, gflops, reason FROM verdicts WHERE at >= $1 AND at < $2 AND ${NOT_COORDINATOR_ERROR}
       UNION ALL
       SELECT w.node, w.at, w.ok, w.gflops, w.reason FROM nodes n CROSS JOIN LATERAL (
         SELECT v.node, v.at, v.ok, v.gflops, v.reason FROM verdicts v WHERE v.node = n.id AND v.at < $1 AND ${NOT_COORDINATOR_ERROR.replaceAll('reason', 'v.reason')}
         ORDER BY v.at DESC, v.id DESC LIMIT $3) w`,
      [startMs, endMs, previous],
    );
    return rows.map((r) => ({ ...r, ok: r.ok === 1 }));
  }

  equivocationFacts(fromMs: number, untilMs: number): Promise<EquivocationFact[]> {
    return this.rows<EquivocationFact>(
      'SELECT node, seq, first_hash AS "firstHash", second_hash AS "secondHash", detected_at AS "detectedAt" FROM equivocations WHERE detected_at >= $1 AND detected_at < $2 ORDER BY node, seq, second_hash',
      [fromMs, untilMs],
    );
  }

  stakeCredits(beforeMs: number, node?: string): Promise<StakeCredit[]> {
    return node === undefined
      ? this.rows<StakeCredit>('SELECT ref, node, amount, at, source, note FROM stake_credits WHERE at < $1 ORDER BY node, at, ref', [beforeMs])
      : this.rows<StakeCredit>('SELECT ref, node, amount, at, source, note FROM stake_credits WHERE node = $1 AND at < $2 ORDER BY at, ref', [node, beforeMs]);
  }

  async creditStake(c: StakeCredit): Promise<boolean> {
    return (await this.run('INSERT INTO stake_credits (ref, node, amount, at, source, note) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ref) DO NOTHING', [c.ref, c.node, c.amount, c.at, c.source, c.note])) === 1;
  }

  async getEpoch(index: number): Promise<EpochRow | null> {
    const [row] = await this.rows<EpochDbRow>('SELECT * FROM epochs WHERE idx = $1', [index]);
    return row === undefined ? null : toEpochRow(row);
  }

  async lastClosedEpoch(): Promise<EpochRow | null> {
    const [row] = await this.rows<EpochDbRow>('SELECT * FROM epochs ORDER BY idx DESC LIMIT 1');
    return row === undefined ? null : toEpochRow(row);
  }

  async listEpochs(): Promise<EpochRow[]> {
    return (await this.rows<EpochDbRow>('SELECT * FROM epochs ORDER BY idx')).map(toEpochRow);
  }

  /** The epoch row and its ledger rows together; a second close of the same epoch (from any process) writes nothing. */
  closeEpoch(close: EpochClose): Promise<boolean> {
    const e = close.epoch;
    return this.tx(async (c) => {
      const inserted = await c.query(
        `INSERT INTO epochs (idx, start_ms, end_ms, until_ms, inputs_hash, carry_in, carry_out, budget, payouts, slashed, forfeited, burned, nodes, closed_at, params, summary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (idx) DO NOTHING`,
        [e.index, e.startMs, e.endMs, e.untilMs, e.inputsHash, e.carryIn, e.carryOut, e.budget, e.payouts, e.slashed, e.forfeited, e.burned, e.nodes, e.closedAt, JSON.stringify(e.params), JSON.stringify(e.summary)],
      );
      if (inserted.rowCount !== 1) return false;
      for (const r of close.rows) {
        await c.query(
          `INSERT INTO ledger (epoch, node, end_ms, earned, slashed, forfeited, stake_after, reputation_after, banned, penalties, facts, payout)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [r.epoch, r.node, r.endMs, r.earned, r.slashed, r.forfeited, r.stakeAfter, r.reputationAfter, r.banned ? 1 : 0, JSON.stringify(r.penalties), JSON.stringify(r.facts), JSON.stringify(r.payout)],
        );
      }
      return true;
    });
  }

  private ledgerRows(columns: string, filter: LedgerFilter): Promise<LedgerDbRow[]> {
    const p = filterParams(filter);
    return p.node === undefined
      ? this.rows<LedgerDbRow>(`SELECT ${columns} FROM ledger WHERE epoch BETWEEN $1 AND $2 ORDER BY epoch, node`, [p.from, p.to])
      : this.rows<LedgerDbRow>(`SELECT ${columns} FROM ledger WHERE node = $1 AND epoch BETWEEN $2 AND $3 ORDER BY epoch`, [p.node, p.from, p.to]);
  }

  async ledgerEntries(filter: LedgerFilter = {}): Promise<LedgerEntry[]> {
    return (await this.ledgerRows(LEDGER_COLUMNS, filter)).map(toEntry);
  }

  async ledgerDetails(filter: LedgerFilter = {}): Promise<LedgerDetail[]> {
    return (await this.ledgerRows(`${LEDGER_COLUMNS}, facts, payout`, filter)).map(toDetail);
  }

  async slashedTotals(beforeEpoch: number): Promise<Map<string, number>> {
    const rows = await this.rows<{ node: string; total: number }>('SELECT node, sum(slashed)::bigint AS total FROM ledger WHERE epoch < $1 GROUP BY node HAVING sum(slashed) > 0', [beforeEpoch]);
    return new Map(rows.map((r) => [r.node, r.total]));
  }

  async getClaim(node: string, seq: number): Promise<ClaimRow | null> {
    const [row] = await this.rows<ClaimDbRow>(`${CLAIM_SELECT} WHERE c.node = $1 AND c.seq = $2`, [node, seq]);
    return row === undefined ? null : toClaim(row);
  }

  async listClaims(node?: string): Promise<ClaimRow[]> {
    const rows = node === undefined ? await this.rows<ClaimDbRow>(`${CLAIM_SELECT} ORDER BY c.node, c.seq`) : await this.rows<ClaimDbRow>(`${CLAIM_SELECT} WHERE c.node = $1 ORDER BY c.seq`, [node]);
    return rows.map(toClaim);
  }

  recordClaim(claim: ClaimRow): Promise<boolean> {
    return this.tx(async (c) => {
      const inserted = await c.query(
        `INSERT INTO claims (node, seq, hash, requested, to_address, first_epoch, last_epoch, paid, code, decided_at, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (node, seq) DO NOTHING`,
        [claim.node, claim.seq, claim.hash, claim.requested, claim.to, claim.epochs[0], claim.epochs[1], claim.paid, claim.code, claim.decidedAt, claim.message],
      );
      if (inserted.rowCount !== 1) return false;
      for (const a of claim.allocations) await c.query('INSERT INTO claim_allocations (node, seq, epoch, amount) VALUES ($1, $2, $3, $4)', [claim.node, claim.seq, a.epoch, a.amount]);
      return true;
    });
  }

  undecidedClaims(): Promise<RecordRow[]> {
    return this.rows<RecordRow>(
      `SELECT r.node, r.seq, r.hash, r.kind, r.time, r.canonical, r.sig, r.received_at AS "receivedAt" FROM records r
       WHERE r.kind = 'claim' AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.node = r.node AND c.seq = r.seq) ORDER BY r.node, r.seq`,
    );
  }
}
