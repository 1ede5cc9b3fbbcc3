/** The store's ledger half: the SQLite migration from schema 1; write-once epochs, claims and stake credits, and the fact queries on every store. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, SQLITE_SCHEMA_VERSION } from '../../../coordinator/store/sqlite.js';
import { openStore, type ClaimRow, type EpochRow } from '../../../coordinator/store/index.js';
import { DEFAULT_REWARD_PARAMS } from '../../../coordinator/rewards/index.js';
import { makeChain, testKey } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';
import { freshStoreUrl, STORE_KINDS } from '../../helpers/postgres.js';

const node = testKey('ledger-store-node');
const other = testKey('ledger-store-other');

function epochRow(index: number): EpochRow {
  return {
    index,
    startMs: index * 100,
    endMs: (index + 1) * 100,
    untilMs: (index + 1) * 100 + 5,
    inputsHash: String(index).repeat(64).slice(0, 64),
    carryIn: 0,
    carryOut: 0,
    budget: 10,
    payouts: 10,
    slashed: 0,
    forfeited: 0,
    burned: 0,
    nodes: 0,
    closedAt: 1,
    params: DEFAULT_REWARD_PARAMS,
    summary: {} as EpochRow['summary'],
  };
}

describe('SqliteStore ledger', () => {
  it('migrates a schema-1 store, keeping its records', async () => {
    const file = join(tempDir(), 'ledger.db');
    const chain = makeChain(node, 3);
    let store = openSqliteStore(file);
    await store.nodeConnected(node.id, { agent: 'capanode/0', inventory: { gpus: [] }, at: 1 });
    const r = chain[0]!;
    await store.commitFrames([{ node: node.id, baseSeq: 0, records: [{ node: node.id, seq: 1, hash: r.hash, kind: 'uptime', time: 5, canonical: r.canonical, sig: r.record.sig, receivedAt: 6 }], lastSeen: 6, skewMs: 0, equivocation: null }]);
    await store.close();
    // Back to what schema 1 had.
    const db = new Database(file);
    db.exec(`DROP TABLE session_leases; DROP TABLE usage_refusals; DROP TABLE jobs; DROP TABLE claim_allocations; DROP TABLE claims; DROP TABLE stake_credits; DROP TABLE ledger; DROP TABLE epochs; DROP TABLE epoch_schedule;
      DROP INDEX beacons_time; DROP INDEX records_kind_received; DROP INDEX verdicts_at; PRAGMA user_version = 1;`);
    db.close();
    store = openSqliteStore(file);
    expect(await store.getRecord(node.id, 1)).toMatchObject({ seq: 1, hash: r.hash });
    expect(await store.epochSchedule({ genesisMs: 7, epochMs: 60_000 })).toEqual({ genesisMs: 7, epochMs: 60_000 });
    // Fixed once: a later proposal does not change it.
    expect(await store.epochSchedule({ genesisMs: 9, epochMs: 120_000 })).toEqual({ genesisMs: 7, epochMs: 60_000 });
    await store.close();
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    check.close();
  });
});

// The ledger half of the Store contract, held by SQLite and PostgreSQL alike.
describe.each(STORE_KINDS)('Store ledger (%s)', (kind) => {
  it('writes an epoch once, stake credits once per reference, claims once per record', async () => {
    const store = openStore(await freshStoreUrl(kind));
    expect(await store.closeEpoch({ epoch: epochRow(0), rows: [] })).toBe(true);
    expect(await store.closeEpoch({ epoch: { ...epochRow(0), payouts: 99 }, rows: [] })).toBe(false);
    expect((await store.getEpoch(0))?.payouts).toBe(10);
    expect((await store.lastClosedEpoch())?.index).toBe(0);

    expect(await store.creditStake({ ref: 'r1', node: node.id, amount: 5, at: 10, source: 'operator', note: null })).toBe(true);
    expect(await store.creditStake({ ref: 'r1', node: node.id, amount: 500, at: 11, source: 'operator', note: null })).toBe(false);
    expect(await store.creditStake({ ref: 'r2', node: other.id, amount: 7, at: 20, source: 'bridge', note: 'x' })).toBe(true);
    expect(new Map((await store.stakeCredits(100)).map((c) => [c.node, c.amount]))).toEqual(new Map([[node.id, 5], [other.id, 7]]));
    expect(await store.stakeCredits(100, node.id)).toEqual([{ ref: 'r1', node: node.id, amount: 5, at: 10, source: 'operator', note: null }]);
    expect(await store.stakeCredits(20)).toHaveLength(1);

    const chain = makeChain(node, 5);
    await store.nodeConnected(node.id, { agent: 'capanode/0', inventory: { gpus: [] }, at: 1 });
    await store.commitFrames([
      {
        node: node.id,
        baseSeq: 0,
        records: chain.map((r) => ({ node: node.id, seq: r.record.env.seq, hash: r.hash, kind: r.record.env.kind, time: r.record.env.time, canonical: r.canonical, sig: r.record.sig, receivedAt: 50 })),
        lastSeen: 50,
        skewMs: 0,
        equivocation: null,
      },
    ]);
    // makeChain's seq 5 is a claim.
    expect((await store.undecidedClaims()).map((r) => r.seq)).toEqual([5]);
    const claim: ClaimRow = { node: node.id, seq: 5, hash: chain[4]!.hash, requested: 3, to: 'w', epochs: [0, 0], paid: 3, code: null, decidedAt: 60, message: '{"t":"receipt"}', allocations: [{ epoch: 0, amount: 3 }] };
    expect(await store.recordClaim(claim)).toBe(true);
    expect(await store.recordClaim({ ...claim, paid: 0, code: 'over-claim', allocations: [] })).toBe(false);
    expect(await store.getClaim(node.id, 5)).toEqual(claim);
    expect(await store.listClaims(other.id)).toEqual([]);
    expect(await store.undecidedClaims()).toEqual([]);
    await store.close();
  });

  it("verdict facts: the epoch's verdicts and each node's last N before it, never the coordinator's own errors", async () => {
    const store = openStore(await freshStoreUrl(kind));
    for (const n of [node, other]) await store.nodeConnected(n.id, { agent: 'capanode/0', inventory: { gpus: [] }, at: 1 });
    let i = 0;
    const verdict = async (who: string, at: number, ok: boolean, reason: string | null = ok ? null : 'pot-invalid: wrong-digest: x') => {
      const id = `c${i++}`;
      await store.insertChallenge({ id, node: who, seed: 'ab'.repeat(32), n: 64, reps: 1, k: 1, deadlineMs: 1, sentAt: at, state: 'sent' });
      await store.recordVerdict({ challenge: id, node: who, ok, gflops: ok ? at : 0, reason, message: '{}', at, state: ok ? 'verified' : 'failed', strike: !ok });
    };
    for (const at of [10, 20, 30, 40]) await verdict(node.id, at, true);
    await verdict(node.id, 45, false, 'coordinator-error: could not verify');
    await verdict(node.id, 150, false);
    await verdict(node.id, 250, true);
    await verdict(other.id, 5, true);
    const facts = await store.verdictFacts(100, 200, 3);
    const of = (id: string) => facts.filter((f) => f.node === id).map((f) => [f.at, f.ok]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(of(node.id)).toEqual([
      [20, true],
      [30, true],
      [40, true],
      [150, false],
    ]);
    expect(of(other.id)).toEqual([[5, true]]);
    await store.close();
  });
});
