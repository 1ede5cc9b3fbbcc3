import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { JournalReader, openJournal, verifyJournal } from '../../../agent/journal/index.js';
import { buildEnvelope, recordLine, ZERO_HASH, type Envelope } from '../../../proofs/envelope.js';
import { rejection, thrown } from '../../helpers/errors.js';
import { BASE_TIME, fill, tempJournal } from '../../helpers/journal-util.js';
import { sampleBody, testKey, uptimeBody } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';

describe('append', () => {
  it('chains records from seq 1 and returns them as committed, byte-stable', async () => {
    const { journal, file } = tempJournal();
    const first = await journal.append('uptime', uptimeBody(1), { time: BASE_TIME + 1 });
    const second = await journal.append('claim', { amount: 5, to: 'wallet:alice', epochs: [1, 2] }, { time: BASE_TIME + 2 });
    expect(first.env).toMatchObject({ v: 1, kind: 'uptime', seq: 1, prev: ZERO_HASH, time: BASE_TIME + 1, node: journal.nodeId });
    expect(second.env.prev).toBe(first.hash);
    expect(second.line).toBe(recordLine({ env: second.env, sig: second.sig }));
    journal.close();
    // What another connection reads back is what append returned.
    const reader = JournalReader.open(file);
    expect(reader.recordAt(2)).toEqual(second);
    expect(reader.head()).toEqual({ seq: 2, hash: second.hash });
    reader.close();
  });

  it('uses the clock for the time unless one is given', async () => {
    const { journal } = tempJournal({ now: () => BASE_TIME + 42 });
    expect((await journal.append('uptime', uptimeBody(1))).time).toBe(BASE_TIME + 42);
    journal.close();
  });

  it('refuses a bad body before anything is written', async () => {
    const { journal } = tempJournal();
    await fill(journal, 2);
    const bad = { ...uptimeBody(1), host: { uptimeS: 1.5, load1Milli: 0 } };
    expect((await rejection(journal.append('uptime', bad))).code).toBe('non-canonical');
    expect((await rejection(journal.append('uptime', { ...uptimeBody(1), beacon: 'nope' }))).code).toBe('schema');
    expect(journal.head()?.seq).toBe(2);
    expect((await journal.append('uptime', uptimeBody(3))).seq).toBe(3);
    journal.close();
  });
});

describe('appendEnvelope', () => {
  function next(journal: ReturnType<typeof tempJournal>['journal'], overrides: Partial<Envelope> = {}): Envelope {
    const head = journal.head();
    return buildEnvelope({ kind: 'uptime', node: journal.nodeId, seq: (head?.seq ?? 0) + 1, prev: head?.hash ?? ZERO_HASH, time: BASE_TIME, body: uptimeBody(9), ...overrides });
  }

  it('returns the stored record for the identical envelope and refuses a different one for that seq', async () => {
    const { journal } = tempJournal();
    await fill(journal, 3);
    const env = next(journal);
    const signed = await journal.appendEnvelope(env);
    expect(signed.seq).toBe(4);
    expect(await journal.appendEnvelope(env)).toEqual(signed);
    expect(await journal.appendEnvelope(journal.recordAt(2)!.env)).toEqual(journal.recordAt(2));
    const other = await rejection(journal.appendEnvelope({ ...env, time: BASE_TIME + 1 }));
    expect(other.code).toBe('journal-conflict');
    expect(other.details).toMatchObject({ seq: 4, storedHash: signed.hash });
    expect(journal.head()?.seq).toBe(4);
    expect(journal.stats().records).toBe(4);
    journal.close();
  });

  it('refuses a gap, a wrong prev and another node', async () => {
    const { journal } = tempJournal();
    await fill(journal, 2);
    expect((await rejection(journal.appendEnvelope(next(journal, { seq: 4 })))).code).toBe('seq-gap');
    expect((await rejection(journal.appendEnvelope(next(journal, { prev: 'ab'.repeat(32) })))).code).toBe('broken-chain');
    expect((await rejection(journal.appendEnvelope(next(journal, { node: testKey('other').id })))).code).toBe('journal-wrong-node');
    expect(journal.head()?.seq).toBe(2);
    journal.close();
  });
});

describe('acks, rejections and backlog', () => {
  it('keeps a cumulative, monotone watermark that never passes the head', async () => {
    const { journal } = tempJournal();
    await fill(journal, 5);
    expect(journal.ack(3)).toBe(3);
    expect(journal.ack(2)).toBe(3);
    expect(thrown(() => journal.ack(6)).code).toBe('journal-ack');
    expect(thrown(() => journal.ack(-1)).code).toBe('bad-input');
    expect(journal.watermark()).toBe(3);
    expect(journal.stats()).toMatchObject({ headSeq: 5, watermark: 3, backlog: 2 });
    journal.close();
  });

  it('streams unacknowledged records in order, in batches', async () => {
    const { journal } = tempJournal();
    await fill(journal, 10);
    journal.ack(4);
    expect(journal.backlog(0, 3).map((r) => r.seq)).toEqual([5, 6, 7]);
    expect(journal.backlog(7, 100).map((r) => r.seq)).toEqual([8, 9, 10]);
    expect(journal.backlog(10, 100)).toEqual([]);
    journal.close();
  });

  it('marks rejected records with the coordinator\'s code and reason, bounded', async () => {
    const { journal } = tempJournal({ now: () => BASE_TIME + 7 });
    await fill(journal, 3);
    journal.reject(2, 'clock-skew', 'stamped 6 minutes ahead');
    journal.reject(3, 'x'.repeat(500), 'y'.repeat(5000));
    expect(journal.recordAt(2)?.rejected).toEqual({ code: 'clock-skew', reason: 'stamped 6 minutes ahead', at: BASE_TIME + 7 });
    expect(journal.backlog(0, 10).map((r) => r.rejected?.code ?? null)).toEqual([null, 'clock-skew', 'x'.repeat(64)]);
    expect(journal.recordAt(3)?.rejected?.reason).toHaveLength(1024);
    expect(journal.stats().rejected).toBe(2);
    expect(journal.rejections().map((r) => r.seq)).toEqual([2, 3]);
    expect(thrown(() => journal.reject(4, 'x', 'y')).code).toBe('journal-ack');
    journal.close();
  });

  it('counts records by kind for status', async () => {
    const { journal } = tempJournal();
    await fill(journal, 7);
    expect(journal.stats()).toMatchObject({ records: 7, firstSeq: 1, recordsByKind: { uptime: 4, throughput: 1, usage: 1, claim: 1 }, condition: null });
    journal.close();
  });
});

describe('retention', () => {
  it('prunes only acknowledged records older than the age, as a prefix, and keeps the head', async () => {
    const { journal, file } = tempJournal();
    await fill(journal, 10); // record seq s has time BASE_TIME + s * 30 s
    journal.ack(6);
    const now = BASE_TIME + 8 * 30_000;
    // Records 1..7 are older than 30 s at `now`, but only 1..6 are acknowledged.
    expect(journal.prune(30_000, now)).toEqual({ deleted: 6, prunedThrough: 6 });
    expect(journal.firstSeq()).toBe(7);
    expect(journal.hashAt(6)).toBe(journal.prunedThrough().hash);
    expect(journal.hashAt(5)).toBeNull();
    expect(journal.recordAt(6)).toBeNull();
    expect(journal.stats()).toMatchObject({ records: 4, firstSeq: 7, headSeq: 10 });
    // Everything acknowledged and old: the head still stays.
    journal.ack(10);
    expect(journal.prune(0, BASE_TIME + 100 * 30_000)).toEqual({ deleted: 3, prunedThrough: 9 });
    expect(journal.head()?.seq).toBe(10);
    const next = await journal.append('uptime', uptimeBody(11), { time: BASE_TIME + 11 * 30_000 });
    expect(next.env.prev).toBe(journal.hashAt(10));
    journal.close();
    const reader = JournalReader.open(file);
    expect(verifyJournal(reader)).toMatchObject({ ok: true, summary: { records: 2, firstSeq: 10, headSeq: 11, prunedThrough: 9 } });
    reader.close();
  });

  it('stops at the first record too young to go', async () => {
    const { journal } = tempJournal();
    for (const [i, t] of [10, 20, 5, 40].entries()) await journal.append('uptime', uptimeBody(i), { time: BASE_TIME + t });
    journal.ack(4);
    // Record 3 is old enough but record 2 is not: removing 3 alone would leave a hole.
    expect(journal.prune(100, BASE_TIME + 115)).toEqual({ deleted: 1, prunedThrough: 1 });
    journal.close();
  });

  it('is enforced by the database too: unacknowledged records and the head cannot be deleted', async () => {
    const { journal, file } = tempJournal();
    await fill(journal, 3);
    journal.ack(1);
    const db = new Database(file);
    expect(() => db.prepare('DELETE FROM records WHERE seq = 2').run()).toThrow(/only acknowledged records/);
    expect(() => db.prepare("UPDATE records SET sig = ? WHERE seq = 1").run('0'.repeat(128))).toThrow(/immutable/);
    expect(() => db.prepare('UPDATE state SET watermark = 0').run()).toThrow(/only move forward/);
    db.close();
    journal.close();
  });
});

describe('adopting the coordinator\'s head (--adopt-remote-head)', () => {
  it('lets an empty journal continue the coordinator\'s chain', async () => {
    const { journal, file } = tempJournal();
    const remote = { seq: 41, hash: 'ab'.repeat(32) };
    journal.adoptHead(remote.seq, remote.hash);
    expect(journal.head()).toEqual(remote);
    expect(journal.hashAt(41)).toBe(remote.hash);
    expect(journal.stats()).toMatchObject({ headSeq: 41, watermark: 41, backlog: 0, records: 0, firstSeq: null });
    const next = await journal.append('uptime', uptimeBody(42));
    expect(next.env).toMatchObject({ seq: 42, prev: remote.hash });
    expect(journal.backlog(0, 10).map((r) => r.seq)).toEqual([42]);
    journal.close();
    const reader = JournalReader.open(file);
    expect(verifyJournal(reader)).toMatchObject({ ok: true, summary: { records: 1, firstSeq: 42, headSeq: 42, prunedThrough: 41 } });
    reader.close();
  });

  it('refuses to adopt over a journal that holds anything', async () => {
    const { journal } = tempJournal();
    await fill(journal, 1);
    expect(thrown(() => journal.adoptHead(41, 'ab'.repeat(32))).code).toBe('journal-conflict');
    expect(thrown(() => journal.adoptHead(0, 'ab'.repeat(32))).code).toBe('bad-input');
    expect(journal.head()?.seq).toBe(1);
    journal.close();
  });
});

describe('opening', () => {
  it('leaves the journal in WAL mode', () => {
    const { journal, file } = tempJournal();
    journal.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('binds the journal to one node and refuses another key', async () => {
    const { journal, file } = tempJournal();
    await fill(journal, 1);
    journal.close();
    const e = thrown(() => openJournal({ file, key: testKey('intruder') }));
    expect(e.code).toBe('journal-wrong-node');
    expect(e.message).toContain(testKey().id);
    const again = openJournal({ file, key: testKey() });
    expect(again.head()?.seq).toBe(1);
    again.close();
  });

  it('reports a missing journal to readers', () => {
    expect(thrown(() => JournalReader.open(join(tempDir(), 'journal.db'))).code).toBe('journal-missing');
  });

  it('lets readers read while the writer writes', async () => {
    const { journal, file } = tempJournal();
    await fill(journal, 2);
    const reader = JournalReader.open(file, { check: true });
    await fill(journal, 2);
    expect(reader.head()?.seq).toBe(4);
    expect(reader.records(1, 10).map((r) => r.kind)).toEqual(['uptime', 'uptime', 'throughput', 'usage']);
    reader.close();
    journal.close();
  });

  it('writes a record of every kind that verifies', async () => {
    const { journal, file } = tempJournal();
    for (const kind of ['uptime', 'throughput', 'usage', 'claim'] as const) await journal.append(kind, sampleBody(kind, 1));
    journal.close();
    const reader = JournalReader.open(file);
    expect(verifyJournal(reader).ok).toBe(true);
    reader.close();
  });
});
