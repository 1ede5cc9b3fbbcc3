/**
 * Opening the journal's SQLite file, and what SQLite's failures mean for it.
 *
 * Durability is asserted, not assumed (DESIGN §9): the writer sets WAL and
 * synchronous=FULL on every open and reads both back. The integrity check
 * runs before anything is written, so a damaged journal is reported exactly
 * as it was found and never touched.
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { CapanodeError } from '../../common/errors.js';

export type Db = Database.Database;

/** SQLite's value for synchronous=FULL (PRAGMA synchronous reads back a number). */
const SYNCHRONOUS_FULL = 2;
const BUSY_TIMEOUT_MS = 5_000;

function sqliteCode(e: unknown): string | null {
  return e instanceof Database.SqliteError ? e.code : null;
}

function corruptError(file: string, what: string, cause?: unknown): CapanodeError {
  return new CapanodeError('journal-corrupt', `journal ${file} is damaged: ${what}`, {
    hint:
      'The journal holds this node\'s signed history and is never repaired by re-signing. Stop here and keep the file as it is; ' +
      'restore journal.db from a backup, then start again (the coordinator re-acknowledges what it already holds).',
    ...(cause === undefined ? {} : { cause }),
    details: { file },
  });
}

/**
 * The CapanodeError for a write that SQLite refused because of the disk
 * (full, read-only, I/O error), or null for any other failure. These are the
 * conditions the daemon waits out: nothing was committed, so nothing signed leaves.
 */
export function writeFailure(e: unknown, file: string): CapanodeError | null {
  const code = sqliteCode(e);
  if (code === null) return null;
  const dir = dirname(file);
  if (code === 'SQLITE_FULL') {
    return new CapanodeError('journal-full', `journal ${file}: the disk is full; nothing was signed`, {
      hint: `Free space on the filesystem that holds ${dir}. capanode keeps running and resumes signing by itself once a write succeeds.`,
      cause: e,
      details: { file, sqlite: code },
    });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new CapanodeError('journal-full', `journal ${file} is read-only (${code}); nothing was signed`, {
      hint: `Make ${dir} and the journal files writable by the capanode user (check for a read-only remount). capanode resumes by itself once a write succeeds.`,
      cause: e,
      details: { file, sqlite: code },
    });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new CapanodeError('journal-io', `journal ${file}: I/O error (${code}); nothing was signed`, {
      hint: `Check the disk that holds ${dir} (dmesg, SMART). capanode retries on the next record and resumes by itself once a write succeeds.`,
      cause: e,
      details: { file, sqlite: code },
    });
  }
  return null;
}

/** Maps a failure while opening or reading to the journal error an operator can act on. */
export function openFailure(e: unknown, file: string): CapanodeError | null {
  if (e instanceof CapanodeError) return e;
  const code = sqliteCode(e);
  if (code === 'SQLITE_NOTADB' || (code?.startsWith('SQLITE_CORRUPT') ?? false)) return corruptError(file, `SQLite reports ${code}`, e);
  if (code === 'SQLITE_CANTOPEN') {
    return new CapanodeError('io-error', `cannot open journal ${file}`, { hint: `Check that ${dirname(file)} exists and is writable by the capanode user.`, cause: e });
  }
  if (code === 'SQLITE_BUSY') {
    return new CapanodeError('journal-locked', `journal ${file} is busy`, { hint: 'Another process holds a lock on it; try again in a moment.', cause: e });
  }
  return writeFailure(e, file);
}

/** PRAGMA quick_check; throws journal-corrupt naming SQLite's findings. */
export function assertIntact(db: Db, file: string): void {
  const rows = db.pragma('quick_check(5)') as { quick_check: string }[];
  const findings = rows.map((r) => r.quick_check);
  if (findings.length !== 1 || findings[0] !== 'ok') throw corruptError(file, `PRAGMA quick_check found: ${findings.join('; ')}`);
}

/** Sets WAL and synchronous=FULL and reads both back; throws journal-durability if either does not hold. */
export function assertDurable(db: Db, file: string): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const mode = db.pragma('journal_mode', { simple: true });
  const sync = db.pragma('synchronous', { simple: true });
  if (mode !== 'wal' || sync !== SYNCHRONOUS_FULL) {
    throw new CapanodeError('journal-durability', `journal ${file} runs with journal_mode=${String(mode)}, synchronous=${String(sync)}; capanode needs WAL and FULL`, {
      hint: 'The filesystem must support WAL (shared memory and POSIX locks: not a network filesystem). Move the data dir to a local disk.',
      details: { file, journalMode: mode, synchronous: sync },
    });
  }
}

/** Bounds the database at maxBytes (SQLite max_page_count, per connection): at the bound, writes fail as on a full disk. */
export function limitSize(db: Db, maxBytes: number): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`);
}

export interface OpenOptions {
  /** Read-only: for the CLI while the daemon writes. The file must exist. */
  readonly: boolean;
  /** Run PRAGMA quick_check before anything else (O(size of the journal)). */
  check: boolean;
}

/** Opens the journal file; every failure comes back as a CapanodeError. */
export function openDatabase(file: string, options: OpenOptions): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly, fileMustExist: options.readonly, timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    if (options.readonly && sqliteCode(e) === 'SQLITE_CANTOPEN') {
      throw new CapanodeError('journal-missing', `there is no journal at ${file}`, {
        hint: 'The daemon creates it on its first start (`capanode start`); pass --data-dir if this node keeps its data elsewhere.',
        cause: e,
      });
    }
    throw openFailure(e, file) ?? e;
  }
  try {
    if (options.check) assertIntact(db, file);
    if (!options.readonly) assertDurable(db, file);
    return db;
  } catch (e) {
    db.close();
    throw openFailure(e, file) ?? e;
  }
}
