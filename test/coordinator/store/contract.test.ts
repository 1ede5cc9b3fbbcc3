import { describe, expect, it } from 'vitest';
import { openStore } from '../../../coordinator/store/index.js';
import type { FrameCommit, RecordRow } from '../../../coordinator/store/types.js';
import type { KeyPair } from '../../../proofs/keys.js';
import { makeChain, testKey } from '../../helpers/keys.js';
import { freshStoreUrl, STORE_KINDS } from '../../helpers/postgres.js';

// The Store contract, held by every implementation: SQLite and PostgreSQL run the same tests.
/** A node's chain as the rows a frame stores. */
function rowsOf(k: KeyPair, count: number): RecordRow[] {
  return makeChain(k, count).map((r) => ({
    node: k.id,
    seq: r.record.env.seq,
    hash: r.hash,
    kind: r.record.env.kind,
    time: r.record.env.time,
    canonical: r.canonical,
    sig: r.record.sig,
    receivedAt: 1000 + r.record.env.seq,
  }));
}

const key = testKey('store-a');
const rows = rowsOf(key, 10);
const seen = { agent: 'capanode/0.1.0', inventory: { gpus: [] }, at: 500 };

function frame(baseSeq: number, records: RecordRow[], extra: Partial<FrameCommit> = {}): FrameCommit {
  return { node: key.id, baseSeq, records, lastSeen: 2000, skewMs: -5, equivocation: null, ...extra };
}

describe.each(STORE_KINDS)('Store contract (%s)', (kind) => {
  it('creates a node on first sight and moves its head only with its records', async () => {
    const store = openStore(await freshStoreUrl(kind));
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
    const store = openStore(await freshStoreUrl(kind));
    const other = testKey('store-b');
    const otherRows = rowsOf(other, 2);
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

  it('writes a batch of frames of several nodes together, each continuing its head', async () => {
    const store = openStore(await freshStoreUrl(kind));
    const other = testKey('store-c');
    const otherRows = rowsOf(other, 3);
    await store.nodeConnected(key.id, seen);
    await store.nodeConnected(other.id, seen);
    expect(await store.commitFrames([frame(0, rows.slice(0, 2)), { ...frame(0, otherRows), node: other.id }])).toEqual([null, null]);
    expect(await store.commitFrames([frame(2, rows.slice(2, 5)), { ...frame(3, []), node: other.id }])).toEqual([null, null]);
    expect((await store.getNode(key.id))?.headSeq).toBe(5);
    expect(await store.getNode(other.id)).toMatchObject({ headSeq: 3, headHash: otherRows[2]!.hash, lastSeen: 2000 });
    expect(await store.getRecord(other.id, 2)).toEqual(otherRows[1]);
    await store.close();
  });

  it('keeps equivocation evidence and bans the node in the same commit', async () => {
    const store = openStore(await freshStoreUrl(kind));
    await store.nodeConnected(key.id, seen);
    await store.commitFrames([frame(0, rows.slice(0, 2))]);
    const evidence = { node: key.id, seq: 2, first: { hash: 'a'.repeat(64), canonical: '{"a":1}', sig: 'b'.repeat(128) }, second: { hash: 'c'.repeat(64), canonical: '{"c":1}', sig: 'd'.repeat(128) }, detectedAt: 7 };
    expect(await store.commitFrames([frame(2, [], { equivocation: evidence })])).toEqual([null]);
    expect(await store.getNode(key.id)).toMatchObject({ banned: true, banReason: 'equivocation at seq 2', headSeq: 2 });
    expect(await store.equivocationFacts(0, 100)).toEqual([{ node: key.id, seq: 2, firstHash: 'a'.repeat(64), secondHash: 'c'.repeat(64), detectedAt: 7 }]);
    await store.close();
  });

  it('records challenges and verdicts; the latest verdict is the node\'s gflops; failures are strikes', async () => {
    const store = openStore(await freshStoreUrl(kind));
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


  it('leases one session per node across processes: refused while held, free after release or lapse', async () => {
    const store = openStore(await freshStoreUrl(kind));
    expect(await store.claimSession(key.id, 'proc-a', 1_000, 30_000)).toBe(true);
    expect(await store.claimSession(key.id, 'proc-b', 2_000, 30_000)).toBe(false);
    // The holder may claim again (a reconnect to the same process).
    expect(await store.claimSession(key.id, 'proc-a', 3_000, 30_000)).toBe(true);
    // Renewed past the old expiry: still held at 40 s.
    await store.renewSessions('proc-a', [key.id], 20_000, 30_000);
    expect(await store.claimSession(key.id, 'proc-b', 40_000, 30_000)).toBe(false);
    // Lapsed (its process died): another takes it.
    expect(await store.claimSession(key.id, 'proc-b', 50_000, 30_000)).toBe(true);
    // A release by a process that no longer holds it changes nothing.
    await store.releaseSession(key.id, 'proc-a');
    expect(await store.claimSession(key.id, 'proc-a', 51_000, 30_000)).toBe(false);
    await store.releaseSession(key.id, 'proc-b');
    expect(await store.claimSession(key.id, 'proc-a', 52_000, 30_000)).toBe(true);
    await store.close();
  });
});
