import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, SQLITE_SCHEMA_VERSION } from '../../../coordinator/store/sqlite.js';
import { testKey } from '../../helpers/keys.js';
import { thrown } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const key = testKey('store-a');
const seen = { agent: 'capanode/0.1.0', inventory: { gpus: [] }, at: 500 };

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
