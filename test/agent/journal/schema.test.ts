import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { JournalReader, migrate, openJournal, SCHEMA_VERSION, verifyJournal } from '../../../agent/journal/index.js';
import { thrown } from '../../helpers/errors.js';
import { fixtureCopy, tempJournal } from '../../helpers/journal-util.js';
import { testKey, uptimeBody } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';

const userVersion = (file: string): unknown => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true });
  } finally {
    db.close();
  }
};

describe('schema migrations', () => {
  it('opens a journal written by schema version 1 and carries on its chain', async () => {
    const file = fixtureCopy('v1.db');
    expect(userVersion(file)).toBe(1);
    // A reader cannot migrate: it says what to do.
    expect(thrown(() => JournalReader.open(file)).code).toBe('journal-schema');
    const journal = openJournal({ file, key: testKey('fixture-v1') });
    expect(userVersion(file)).toBe(SCHEMA_VERSION);
    expect(journal.stats()).toMatchObject({ headSeq: 12, headHash: '683d25be88147cd49e0853b269d1378ef92a924f0d95fb7f5b8796d6aeb032ea', firstSeq: 4, records: 9, watermark: 9, backlog: 3 });
    expect(journal.prunedThrough()).toEqual({ seq: 3, hash: '7216a4adbb2c84401ff3f7bc443570c4a51dbd22e5eab7998819d757ce908063' });
    journal.reject(11, 'clock-skew', 'late');
    const next = await journal.append('uptime', uptimeBody(13));
    expect(next.env).toMatchObject({ seq: 13, prev: '683d25be88147cd49e0853b269d1378ef92a924f0d95fb7f5b8796d6aeb032ea' });
    journal.close();
    const reader = JournalReader.open(file, { check: true });
    expect(verifyJournal(reader)).toMatchObject({ ok: true, summary: { records: 10, firstSeq: 4, headSeq: 13, rejected: 1 } });
    reader.close();
  });

  it('migrates step by step from any earlier version', () => {
    const file = join(tempDir(), 'journal.db');
    const db = new Database(file);
    expect(migrate(db, file, 1)).toBe(0);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(migrate(db, file)).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(migrate(db, file)).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a journal from a newer capanode and leaves it as it was', () => {
    const { journal, file } = tempJournal();
    journal.close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const copy = join(tempDir(), 'before.db');
    copyFileSync(file, copy);
    const e = thrown(() => openJournal({ file, key: testKey() }));
    expect(e.code).toBe('journal-schema');
    expect(e.hint).toMatch(/Upgrade capanode/);
    expect(thrown(() => JournalReader.open(file)).code).toBe('journal-schema');
    expect(readFileSync(file).equals(readFileSync(copy))).toBe(true);
  });
});
