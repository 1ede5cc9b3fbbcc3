import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildEnvelope, signEnvelope } from '../../../proofs/envelope.js';
import { BASE_TIME, fill, tamper, tempJournal, verifyFile } from '../../helpers/journal-util.js';
import { uptimeBody } from '../../helpers/keys.js';

/** A closed journal of 10 records, acknowledged through 4. */
async function journalFile(): Promise<string> {
  const { journal, file } = tempJournal();
  await fill(journal, 10);
  journal.ack(4);
  journal.close();
  return file;
}

describe('journal verify', () => {
  it('passes an intact journal and summarises it', async () => {
    const file = await journalFile();
    expect(verifyFile(file)).toMatchObject({ ok: true, summary: { records: 10, firstSeq: 1, headSeq: 10, watermark: 4, backlog: 6, rejected: 0, prunedThrough: 0 } });
  });

  it('catches a body changed in the database file itself', async () => {
    const file = await journalFile();
    const text = readFileSync(file).toString('latin1');
    // uptimeBody(6).host.uptimeS is 3780: only record 6 holds this text (change every copy, stale ones in free space too).
    expect(text).toContain('"uptimeS":3780');
    const bytes = Buffer.from(text.replaceAll('"uptimeS":3780', '"uptimeS":3781'), 'latin1');
    writeFileSync(file, bytes);
    expect(verifyFile(file)).toMatchObject({ ok: false, problem: { code: 'bad-signature', seq: 6, path: 'sig' } });
  });

  it('catches a deleted row', async () => {
    const file = await journalFile();
    tamper(file, 'DELETE FROM records WHERE seq = 5');
    expect(verifyFile(file)).toMatchObject({ ok: false, problem: { code: 'seq-gap', seq: 6 } });
  });

  it('catches a deleted first row and a deleted acknowledged head', async () => {
    const first = await journalFile();
    tamper(first, 'DELETE FROM records WHERE seq = 1');
    expect(verifyFile(first)).toMatchObject({ ok: false, problem: { code: 'seq-gap', seq: 2 } });
    // An acknowledged head: the coordinator's watermark says it existed.
    const { journal, file } = tempJournal();
    await fill(journal, 10);
    journal.ack(10);
    journal.close();
    tamper(file, 'DELETE FROM records WHERE seq = 10');
    expect(verifyFile(file)).toMatchObject({ ok: false, problem: { code: 'journal-corrupt', path: 'state.watermark' } });
  });

  it('catches two swapped rows', async () => {
    const file = await journalFile();
    tamper(
      file,
      `UPDATE records SET seq = 1000 WHERE seq = 5;
       UPDATE records SET seq = 5 WHERE seq = 6;
       UPDATE records SET seq = 6 WHERE seq = 1000;`,
    );
    expect(verifyFile(file)).toMatchObject({ ok: false, problem: { code: 'seq-gap', seq: 5 } });
  });

  it('catches a second, validly signed envelope written over a seq', async () => {
    const { journal, file, key } = tempJournal();
    await fill(journal, 10);
    const six = journal.recordAt(6)!;
    journal.close();
    const env = buildEnvelope({ kind: 'uptime', node: key.id, seq: 7, prev: six.hash, time: BASE_TIME, body: uptimeBody(99) });
    const forged = signEnvelope(env, key);
    tamper(file, `UPDATE records SET canonical = '${forged.canonical}', sig = '${forged.record.sig}', hash = '${forged.hash}', time = ${BASE_TIME} WHERE seq = 7`);
    // Record 7 itself is valid; record 8 still links to the original 7.
    expect(verifyFile(file)).toMatchObject({ ok: false, problem: { code: 'broken-chain', seq: 8, path: 'env.prev' } });
  });

  it('catches a stored hash that is not the hash of the record', async () => {
    const file = await journalFile();
    tamper(file, `UPDATE records SET hash = '${'0'.repeat(64)}' WHERE seq = 3`);
    expect(verifyFile(file)).toMatchObject({ ok: false, problem: { code: 'journal-corrupt', seq: 3, path: 'hash' } });
  });

  it('catches a broken link to the retention anchor', async () => {
    const { journal, file } = tempJournal();
    await fill(journal, 10);
    journal.ack(8);
    journal.prune(0, Number.MAX_SAFE_INTEGER);
    journal.close();
    expect(verifyFile(file)).toMatchObject({ ok: true, summary: { firstSeq: 9, prunedThrough: 8 } });
    tamper(file, `UPDATE state SET pruned_hash = '${'2'.repeat(64)}'`);
    expect(verifyFile(file)).toMatchObject({ ok: false, problem: { code: 'broken-chain', seq: 9, path: 'env.prev' } });
  });
});
