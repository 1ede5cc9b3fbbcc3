/**
 * journal.appendPerSec: records built, signed and committed durably by the
 * journal, one record per transaction, with up to 8 appends in flight (as
 * when several attestations come due at once): the journal signs the next
 * record while the last one's fsync runs. Beside it, sqlite.rawFullInsertPerSec:
 * a bare better-sqlite3 INSERT of a row of the same size, one per
 * transaction, WAL + synchronous=FULL, on the same disk, in alternating
 * batches. journal.appendSerialPerSec is one caller awaiting each append in
 * turn (no overlap: the signature's CPU adds to every commit).
 *
 * journal.backlogPerSec: unacknowledged records read back in batches of 256,
 * as the link streams them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openJournal } from '../agent/journal/index.js';
import { generateKeyPair } from '../proofs/keys.js';
import { benchUptimeBody, goal, type BenchSuite } from './suite.js';

const MEASURE_MS = 8000;
const BATCH = 50;
/** Appends in flight at once in the pipelined measurement. */
const IN_FLIGHT = 8;
const BACKLOG_BATCH = 256;

export const journalSuite: BenchSuite = {
  name: 'journal',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'capanode-bench-journal-'));
    try {
      const journal = openJournal({ file: join(dir, 'journal.db'), key: generateKeyPair() });
      const sample = await journal.append('uptime', benchUptimeBody(0));

      const raw = new Database(join(dir, 'raw.db'));
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = FULL');
      if (raw.pragma('synchronous', { simple: true }) !== 2 || raw.pragma('journal_mode', { simple: true }) !== 'wal') throw new Error('raw database is not WAL + FULL');
      raw.exec('CREATE TABLE records (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, time INTEGER NOT NULL, hash TEXT NOT NULL, sig TEXT NOT NULL, canonical TEXT NOT NULL) STRICT');
      const insert = raw.prepare<[number, string, number, string, string, string]>('INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)');

      // Small alternating batches: the disk's fsync latency drifts by several times within seconds on a
      // shared machine, and both sides must see the same disk.
      let i = 1;
      let rawSeq = 0;
      let rawNs = 0n;
      let appendNs = 0n;
      let serialNs = 0n;
      let ops = 0;
      const pipelined = async (): Promise<void> => {
        const inFlight = new Set<Promise<unknown>>();
        for (let k = 0; k < BATCH; k++) {
          if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
          const p = journal.append('uptime', benchUptimeBody(i++));
          inFlight.add(p);
          void p.then(() => inFlight.delete(p));
        }
        await Promise.all(inFlight);
      };
      const until = process.hrtime.bigint() + BigInt(MEASURE_MS) * 1_000_000n;
      while (process.hrtime.bigint() < until) {
        const t0 = process.hrtime.bigint();
        for (let k = 0; k < BATCH; k++) insert.run(++rawSeq, 'uptime', Date.now(), sample.hash, sample.sig, sample.canonical);
        const t1 = process.hrtime.bigint();
        await pipelined();
        const t2 = process.hrtime.bigint();
        for (let k = 0; k < BATCH / 5; k++) await journal.append('uptime', benchUptimeBody(i++));
        serialNs += process.hrtime.bigint() - t2;
        appendNs += t2 - t1;
        rawNs += t1 - t0;
        ops += BATCH;
      }
      raw.close();
      const appendPerSec = Math.round((ops * 1e9) / Number(appendNs));
      const appendSerialPerSec = Math.round((ops * 1e9) / 5 / Number(serialNs));
      const rawFullInsertPerSec = Math.round((ops * 1e9) / Number(rawNs));

      // Everything appended above is unacknowledged: read it all back, again and again.
      const backlogSize = journal.stats().backlog;
      let after = 0;
      let read = 0;
      const start = process.hrtime.bigint();
      let elapsedNs = 0n;
      while (elapsedNs < 2_000_000_000n) {
        const batch = journal.backlog(after, BACKLOG_BATCH);
        read += batch.length;
        // From the start again at the end of the backlog.
        after = batch.at(-1)?.seq ?? 0;
        elapsedNs = process.hrtime.bigint() - start;
      }
      const backlogPerSec = Math.round((read * 1e9) / Number(elapsedNs));
      journal.close();

      return {
        recordBytes: Buffer.byteLength(sample.canonical) + sample.sig.length + sample.hash.length,
        'journal.appendPerSec': appendPerSec,
        'journal.appendSerialPerSec': appendSerialPerSec,
        appendInFlight: IN_FLIGHT,
        'sqlite.rawFullInsertPerSec': rawFullInsertPerSec,
        opsEach: ops,
        appendRatio: goal(Math.round((appendPerSec / rawFullInsertPerSec) * 1000) / 1000, '>=', 0.7),
        backlogRecords: backlogSize,
        'journal.backlogPerSec': goal(backlogPerSec, '>=', 100_000),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
