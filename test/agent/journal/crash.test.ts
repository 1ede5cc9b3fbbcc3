/**
 * kill -9 harness: a child appends as fast as it can and prints each seq
 * after its commit; the parent kills it at a random moment, then checks the
 * journal. What a killed writer leaves must always be a valid journal that
 * holds everything it released, and no seq may ever change its record.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { JournalReader, verifyJournal } from '../../../agent/journal/index.js';
import { ChainVerifier } from '../../../proofs/chain.js';
import { toHex } from '../../../proofs/keys.js';
import { JournalChild } from '../../helpers/journal-child.js';
import { testKey } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';

const KILLS = Number(process.env['CAPANODE_JOURNAL_KILLS'] ?? 200);
const WARM_AHEAD = 2;

/** mulberry32: the kill moments are reproducible from the seed printed on failure. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A child killed while creating the journal leaves no file, or one whose
 * schema was never committed (user_version 0): both are an empty journal,
 * which the next writer initialises. Anything else must open.
 */
function hasJournal(file: string): boolean {
  if (!existsSync(file)) return false;
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) !== 0;
  } finally {
    db.close();
  }
}

describe('journal under kill -9', () => {
  it(`keeps every released record and never re-signs a seq (${KILLS} kills)`, { timeout: 180_000 }, async () => {
    const seed = Number(process.env['CAPANODE_JOURNAL_KILL_SEED'] ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const ctx = `(seed ${seed})`;
    const key = testKey('crash');
    const file = join(tempDir('capanode-crash-'), 'journal.db');
    const seedHex = toHex(key.secretKey);
    /** Every (seq, hash) ever released by a child, or seen in the journal after a kill. */
    const known = new Map<number, string>();
    const verifier = new ChainVerifier();
    let verifiedThrough = 0;
    let killedBeforeFirst = 0;

    // Children warm up (imports, SQLite, one signature) ahead of their turn, so only the journal work is on the critical path.
    const spawnChild = () => new JournalChild('append', file, seedHex);
    const warming = Array.from({ length: WARM_AHEAD }, spawnChild);
    for (let i = 0; i < KILLS; i++) {
      const child = warming.shift() ?? spawnChild();
      if (i + warming.length + 1 < KILLS) warming.push(spawnChild());
      await child.waitFor((l) => l === 'ready');
      child.go();
      if (random() < 0.1) {
        // Some kills land while the child opens, checks or recovers the journal.
        await sleep(random() * 15);
      } else {
        await child.waitFor((l) => l.startsWith('seq ') || l.startsWith('error '));
        await sleep(5 + random() * 35);
      }
      await child.kill();
      const errors = child.lines.filter((l) => l.startsWith('error '));
      expect(errors, `child ${i} failed ${ctx}`).toEqual([]);
      const released = child.committed();
      if (released.length === 0) killedBeforeFirst += 1;

      if (known.size === 0 && released.length === 0 && !hasJournal(file)) continue; // killed before its first commit
      const reader = JournalReader.open(file, { check: true }); // quick_check: throws journal-corrupt
      try {
        const head = reader.head();
        const rows = reader.rows(1, Number.MAX_SAFE_INTEGER);
        expect(rows.map((r) => r.seq), `contiguous seqs after kill ${i} ${ctx}`).toEqual(rows.map((_, k) => k + 1));
        expect(head?.seq ?? 0, `head after kill ${i} ${ctx}`).toBe(rows.length);
        for (const r of released) {
          const prior = known.get(r.seq);
          if (prior !== undefined) expect(r.hash, `seq ${r.seq} released twice with different records ${ctx}`).toBe(prior);
          known.set(r.seq, r.hash);
        }
        for (const row of rows) {
          const prior = known.get(row.seq);
          if (prior !== undefined) expect(row.hash, `seq ${row.seq} changed its record after kill ${i} ${ctx}`).toBe(prior);
          else known.set(row.seq, row.hash);
        }
        expect(Math.max(0, ...released.map((r) => r.seq)), `a released seq is missing after kill ${i} ${ctx}`).toBeLessThanOrEqual(rows.length);
        for (const row of rows.slice(verifiedThrough)) {
          const v = verifier.add(JSON.parse(`{"env":${row.canonical},"sig":"${row.sig}"}`));
          if (!v.ok) expect.fail(`chain broken at seq ${row.seq} after kill ${i} ${ctx}: ${v.problem.code} ${v.problem.message}`);
          expect(v.value.hash).toBe(row.hash);
        }
        verifiedThrough = rows.length;
      } finally {
        reader.close();
      }
    }
    await Promise.all(warming.map((c) => c.kill()));

    const reader = JournalReader.open(file, { check: true });
    try {
      const result = verifyJournal(reader);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      expect(result.summary.records).toBe(known.size);
    } finally {
      reader.close();
    }
    // Most kills must land mid-append for the test to mean anything.
    expect(killedBeforeFirst).toBeLessThan(KILLS / 2);
  });
});
