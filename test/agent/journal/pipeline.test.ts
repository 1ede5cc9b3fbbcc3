/**
 * Pipelined appends (agent/journal/writer.ts): many appends in flight at
 * once are committed in the order they were made, each released only after
 * its own COMMIT; a refused one takes down only what was built on it.
 */
import { describe, expect, it } from 'vitest';
import { JournalReader, openJournal, type JournalRecord } from '../../../agent/journal/index.js';
import { CapanodeError } from '../../../common/errors.js';
import { buildEnvelope } from '../../../proofs/envelope.js';
import { BASE_TIME, fill, tempJournal, verifyFile } from '../../helpers/journal-util.js';
import { uptimeBody } from '../../helpers/keys.js';

describe('pipelined appends', () => {
  it('commits appends made without waiting in the order they were made, each readable when it resolves', async () => {
    const { journal, file } = tempJournal();
    await fill(journal, 3);
    const reader = JournalReader.open(file);
    const seen: number[] = [];
    const appends = Array.from({ length: 200 }, (_, i) =>
      journal.append('uptime', uptimeBody(i), { time: BASE_TIME + i }).then((r) => {
        // Persist before release: when an append resolves, another connection already reads its record.
        expect(reader.recordAt(r.seq)?.canonical).toBe(r.canonical);
        seen.push(r.seq);
        return r;
      }),
    );
    const records = await Promise.all(appends);
    reader.close();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 4));
    expect(seen).toEqual(records.map((r) => r.seq));
    for (const [i, r] of records.entries()) expect(r.env.prev).toBe(i === 0 ? journal.recordAt(3)?.hash : records[i - 1]?.hash);
    expect(journal.stats()).toMatchObject({ records: 203, headSeq: 203, recordsByKind: { uptime: 202, throughput: 1 } });
    journal.close();
    expect(verifyFile(file)).toMatchObject({ ok: true, summary: { headSeq: 203 } });
  });

  it('on a full disk refuses the record that did not fit and what was built on it, keeps what committed, and goes on from the head', async () => {
    const { journal, file } = tempJournal({ maxBytes: 64 * 1024 });
    const outcomes = await Promise.allSettled(Array.from({ length: 400 }, (_, i) => journal.append('uptime', uptimeBody(i))));
    const committed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(committed.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    // What committed is a prefix: nothing after the first refusal was stored out of order.
    expect(outcomes.findIndex((o) => o.status === 'rejected')).toBe(committed.length);
    expect(committed.map((r) => r.seq)).toEqual(Array.from({ length: committed.length }, (_, i) => i + 1));
    for (const e of refused) expect(e).toBeInstanceOf(CapanodeError);
    expect((refused[0] as CapanodeError).code).toBe('journal-full');
    expect(journal.head()?.seq).toBe(committed.length);
    expect(journal.stats().condition?.code).toBe('journal-full');

    // Space returns: the next record continues from the last committed one.
    journal.ack(committed.length);
    journal.prune(0, Number.MAX_SAFE_INTEGER);
    const next = await journal.append('uptime', uptimeBody(1));
    expect(next.env).toMatchObject({ seq: committed.length + 1, prev: committed.at(-1)?.hash });
    expect(journal.stats().condition).toBeNull();
    journal.close();
    expect(verifyFile(file)).toMatchObject({ ok: true, summary: { headSeq: committed.length + 1 } });
  });

  it('close() lets the appends in flight commit and resolves them, then frees the journal for the next writer', async () => {
    const { journal, file, key } = tempJournal();
    const appends = Array.from({ length: 50 }, (_, i) => journal.append('uptime', uptimeBody(i)));
    journal.close();
    const records: JournalRecord[] = await Promise.all(appends);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const again = openJournal({ file, key });
    expect(again.head()).toEqual({ seq: 50, hash: records[49]?.hash });
    expect((await again.append('uptime', uptimeBody(50))).seq).toBe(51);
    again.close();
  });

  it('offers an envelope only once the appends in flight are committed, and refuses to adopt a head while any is', async () => {
    const { journal } = tempJournal();
    const first = journal.append('uptime', uptimeBody(1), { time: BASE_TIME });
    expect(() => journal.adoptHead(7, 'ab'.repeat(32))).toThrow(expect.objectContaining({ code: 'journal-conflict' }) as unknown);
    const r1 = await first;
    const inFlight = journal.append('uptime', uptimeBody(2), { time: BASE_TIME + 1 });
    // The same envelope as seq 2 will be once committed: offered now, it waits and then matches it.
    const offered = journal.appendEnvelope(buildEnvelope({ kind: 'uptime', node: journal.nodeId, seq: 2, prev: r1.hash, time: BASE_TIME + 1, body: uptimeBody(2) }));
    const [r2, o2] = await Promise.all([inFlight, offered]);
    expect(o2).toEqual(r2);
    expect(journal.head()?.seq).toBe(2);
    journal.close();
  });
});
