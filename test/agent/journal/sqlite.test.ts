import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openJournal } from '../../../agent/journal/index.js';
import { assertDurable, openDatabase, writeFailure } from '../../../agent/journal/sqlite.js';
import { thrown } from '../../helpers/errors.js';
import { fill, tempJournal } from '../../helpers/journal-util.js';
import { testKey } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';

describe('durability', () => {
  it('sets WAL and synchronous=FULL and reads both back', () => {
    const db = openDatabase(join(tempDir(), 'j.db'), { readonly: false, check: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
  });

  it('fails when WAL does not hold', () => {
    const db = new Database(':memory:');
    const e = thrown(() => assertDurable(db, ':memory:'));
    expect(e.code).toBe('journal-durability');
    expect(e.message).toContain('journal_mode=memory');
    db.close();
  });
});

describe('integrity', () => {
  it('stops at a file that is not a database and leaves it untouched', () => {
    const file = join(tempDir(), 'journal.db');
    const garbage = Buffer.alloc(8192, 0x5a);
    writeFileSync(file, garbage);
    const e = thrown(() => openJournal({ file, key: testKey() }));
    expect(e.code).toBe('journal-corrupt');
    expect(e.hint).toMatch(/never repaired by re-signing/);
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('stops at damaged pages that quick_check finds, and leaves the file untouched', async () => {
    const { journal, file } = tempJournal();
    await fill(journal, 200);
    journal.close();
    const bytes = readFileSync(file);
    // Scribble over the middle of the file: b-tree pages of the records table.
    const damaged = Buffer.from(bytes);
    damaged.fill(0xa5, 4096 * 3, 4096 * 3 + 512);
    writeFileSync(file, damaged);
    const e = thrown(() => openJournal({ file, key: testKey() }));
    expect(e.code).toBe('journal-corrupt');
    expect(readFileSync(file).equals(damaged)).toBe(true);
    // Nothing was left holding the lock: the next attempt fails the same way, not with journal-locked.
    expect(thrown(() => openJournal({ file, key: testKey() })).code).toBe('journal-corrupt');
  });
});

describe('write failures', () => {
  function sqliteError(code: string): Error {
    return new Database.SqliteError('test', code);
  }

  it('maps a full disk, a read-only journal and I/O errors to typed errors with hints', () => {
    expect(writeFailure(sqliteError('SQLITE_FULL'), '/x/journal.db')?.code).toBe('journal-full');
    expect(writeFailure(sqliteError('SQLITE_READONLY_DBMOVED'), '/x/journal.db')?.message).toContain('read-only');
    expect(writeFailure(sqliteError('SQLITE_IOERR_FSYNC'), '/x/journal.db')?.code).toBe('journal-io');
    expect(writeFailure(sqliteError('SQLITE_CONSTRAINT'), '/x/journal.db')).toBeNull();
    expect(writeFailure(new Error('other'), '/x/journal.db')).toBeNull();
  });
});
