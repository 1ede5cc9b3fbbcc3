import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, SQLITE_SCHEMA_VERSION } from '../../../coordinator/store/sqlite.js';
import type { FrameCommit, RecordRow } from '../../../coordinator/store/types.js';
import { makeChain, testKey } from '../../helpers/keys.js';
import { thrown } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const key = testKey('store-a');
const chain = makeChain(key, 10);
const rows: RecordRow[] = chain.map((r) => ({
  node: key.id,
  seq: r.record.env.seq,
  hash: r.hash,
  kind: r.record.env.kind,
  time: r.record.env.time,
  canonical: r.canonical,
  sig: r.record.sig,
  receivedAt: 1000 + r.record.env.seq,
}));
const seen = { agent: 'capanode/0.1.0', inventory: { gpus: [] }, at: 500 };

function frame(baseSeq: number, records: RecordRow[], extra: Partial<FrameCommit> = {}): FrameCommit {
  return { node: key.id, baseSeq, records, lastSeen: 2000, skewMs: -5, equivocation: null, ...extra };
}

describe('SqliteStore', () => {
  it('opens with WAL and synchronous=FULL and records its schema version', async () => {
    const file = join(tempDir(), 'ledger.db');
    const store = openSqliteStore(file);
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    db.close();
  });

  it('refuses a store written by a newer version', () => {
    const file = join(tempDir(), 'ledger.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(thrown(() => openSqliteStore(file)).code).toBe('store-schema');
  });

  it('creates a node on first sight and moves its head only with its records', async () => {
    const store = openSqliteStore(join(tempDir(), 'ledger.db'));
    const fresh = await store.nodeConnected(key.id, seen);
    expect(fresh).toMatchObject({ id: key.id, headSeq: 0, headHash: null, connected: true, banned: false, strikes: 0, firstSeen: 500 });
    expect(await store.commitFrames([frame(0, rows.slice(0, 4))])).toEqual([null]);
    expect(await store.getNode(key.id)).toMatchObject({ headSeq: 4, headHash: rows[3]!.hash, lastSeen: 2000, skewMs: -5 });
    expect([...(await store.storedHashes(key.id, 2, 3)).entries()]).toEqual([
      [2, rows[1]!.hash],
      [3, rows[2]!.hash],
    ]);
    expect(await store.getRecord(key.id, 4)).toEqual(rows[3]);
    await store.nodeDisconnected(key.id, 3000);
    expect(await store.getNode(key.id)).toMatchObject({ connected: false, lastSeen: 3000 });
    await store.close();
  });

  it('fails one frame whose base is not the stored head, and writes the others of the batch', async () => {
    const store = openSqliteStore(join(tempDir(), 'ledger.db'));
    const other = testKey('store-b');
    const otherRows = makeChain(other, 2).map((r, i) => ({ ...rows[i]!, node: other.id, hash: r.hash, canonical: r.canonical, sig: r.record.sig }));
    await store.nodeConnected(key.id, seen);
    await store.nodeConnected(other.id, seen);
    const results = await store.commitFrames([frame(3, rows.slice(3, 5)), { ...frame(0, otherRows), node: other.id }]);
    expect(results[0]).toMatchObject({ code: 'store-unavailable' });
    expect(results[1]).toBeNull();
    expect((await store.getNode(key.id))?.headSeq).toBe(0);
    expect((await store.getNode(other.id))?.headSeq).toBe(2);
    // (node, seq) is permanent: the same seq cannot be written twice, even by a buggy caller.
    expect((await store.commitFrames([{ ...frame(0, otherRows.slice(0, 1)), node: other.id }]))[0]).toBeInstanceOf(Error);
    await store.close();
  });

  it('keeps equivocation evidence and bans the node in the same commit', async () => {
    const file = join(tempDir(), 'ledger.db');
    const store = openSqliteStore(file);
    await store.nodeConnected(key.id, seen);
    await store.commitFrames([frame(0, rows.slice(0, 2))]);
    const evidence = { node: key.id, seq: 2, first: { hash: 'a'.repeat(64), canonical: '{"a":1}', sig: 'b'.repeat(128) }, second: { hash: 'c'.repeat(64), canonical: '{"c":1}', sig: 'd'.repeat(128) }, detectedAt: 7 };
    expect(await store.commitFrames([frame(2, [], { equivocation: evidence })])).toEqual([null]);
    expect(await store.getNode(key.id)).toMatchObject({ banned: true, banReason: 'equivocation at seq 2', headSeq: 2 });
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT node, seq, first_hash, second_hash, second_canonical FROM equivocations').all()).toEqual([{ node: key.id, seq: 2, first_hash: 'a'.repeat(64), second_hash: 'c'.repeat(64), second_canonical: '{"c":1}' }]);
    db.close();
  });

  it('records challenges and verdicts; the latest verdict is the node\'s gflops; failures are strikes', async () => {
    const store = openSqliteStore(join(tempDir(), 'ledger.db'));
    await store.nodeConnected(key.id, seen);
    for (const [i, ok] of [true, false].entries()) {
      const id = `c-${i}`;
      await store.insertChallenge({ id, node: key.id, seed: 'ab'.repeat(32), n: 64, reps: 2, k: 4, deadlineMs: 1000, sentAt: 10 + i, state: 'sent' });
      await store.challengeCommitted(id, { root: 'cd'.repeat(32), elapsedUs: 5, device: 'cpu', committedAt: 11 + i, checks: [[0, 1]], rttUs: 100 });
      await store.recordVerdict({ challenge: id, node: key.id, ok, gflops: ok ? 42 : 0, reason: ok ? null : 'pot-invalid: wrong-digest', message: '{}', at: 20 + i, state: ok ? 'verified' : 'failed', strike: !ok });
      expect(await store.getNode(key.id)).toMatchObject({ gflops: ok ? 42 : 0, strikes: ok ? 0 : 1, lastVerdictAt: 20 + i });
    }
    await store.close();
  });

  it('opens read-only for `nodes` while a writer holds it', async () => {
    const file = join(tempDir(), 'ledger.db');
    const writer = openSqliteStore(file);
    await writer.nodeConnected(key.id, seen);
    const reader = openSqliteStore(file, { readonly: true });
    expect((await reader.listNodes()).map((n) => n.id)).toEqual([key.id]);
    await reader.close();
    await writer.close();
  });
});
