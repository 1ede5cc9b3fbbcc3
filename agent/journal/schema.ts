/**
 * The journal's schema and its migrations, versioned with PRAGMA user_version.
 * A migration is appended, never edited: a journal on disk was made by one of
 * them. test/fixtures/journal/ holds a journal from each earlier version.
 *
 * The invariants that keep a node from equivocating are enforced by SQLite
 * itself, not only by the code that writes: records are immutable, a record
 * can only be inserted at head + 1, only acknowledged records before the head
 * can be deleted, and the watermark and the prune point only move forward.
 */
import { CapanodeError } from '../../common/errors.js';
import type { Db } from './sqlite.js';

interface Migration {
  version: number;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- canonical is the exact text that was signed (after the domain prefix); hash and sig are derived from it.
      CREATE TABLE records (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        kind TEXT NOT NULL CHECK (kind IN ('uptime', 'throughput', 'usage', 'claim')),
        time INTEGER NOT NULL,
        hash TEXT NOT NULL CHECK (length(hash) = 64),
        sig TEXT NOT NULL CHECK (length(sig) = 128),
        canonical TEXT NOT NULL
      ) STRICT;

      -- head: the last record signed (0 / zeros before the first); watermark: the highest seq the coordinator
      -- acknowledged; pruned: the last record removed by retention, whose hash the first kept record links to.
      CREATE TABLE state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        head_seq INTEGER NOT NULL,
        head_hash TEXT NOT NULL CHECK (length(head_hash) = 64),
        watermark INTEGER NOT NULL,
        pruned_seq INTEGER NOT NULL,
        pruned_hash TEXT NOT NULL CHECK (length(pruned_hash) = 64),
        CHECK (0 <= pruned_seq AND pruned_seq <= watermark AND watermark <= head_seq AND (pruned_seq < head_seq OR head_seq = 0))
      ) STRICT;
      INSERT INTO state VALUES (1, 0, '${'0'.repeat(64)}', 0, 0, '${'0'.repeat(64)}');

      CREATE TRIGGER records_immutable BEFORE UPDATE ON records
      BEGIN SELECT RAISE(ABORT, 'journal records are immutable'); END;

      CREATE TRIGGER records_append_only BEFORE INSERT ON records
      WHEN NEW.seq <> (SELECT head_seq FROM state) + 1
      BEGIN SELECT RAISE(ABORT, 'a journal record can only be added at head + 1'); END;

      CREATE TRIGGER records_prune_only BEFORE DELETE ON records
      WHEN OLD.seq > (SELECT watermark FROM state) OR OLD.seq >= (SELECT head_seq FROM state)
      BEGIN SELECT RAISE(ABORT, 'only acknowledged records before the head can be pruned'); END;

      CREATE TRIGGER state_forward_only BEFORE UPDATE ON state
      WHEN NEW.head_seq < OLD.head_seq OR NEW.watermark < OLD.watermark OR NEW.pruned_seq < OLD.pruned_seq
      BEGIN SELECT RAISE(ABORT, 'journal head, watermark and prune point only move forward'); END;

      CREATE TRIGGER state_single_row BEFORE DELETE ON state
      BEGIN SELECT RAISE(ABORT, 'the journal state row cannot be deleted'); END;
    `,
  },
  {
    // Records the coordinator refused (nack), with its code and reason; they go when retention removes the record.
    version: 2,
    sql: `
      CREATE TABLE rejections (
        seq INTEGER PRIMARY KEY,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      ) STRICT;

      CREATE TRIGGER records_pruned_rejections AFTER DELETE ON records
      BEGIN DELETE FROM rejections WHERE seq = OLD.seq; END;
    `,
  },
  {
    // The head is the last record itself, or the anchor when none is held (after --adopt-remote-head),
    // not a copy in state: updating a second page in every append's transaction cost about a third of
    // the append rate. state keeps what changes rarely (ack, prune, adoption). SQLite cannot drop a
    // column named in a CHECK, so state is rebuilt, with the triggers that name it.
    version: 3,
    sql: `
      DROP TRIGGER records_append_only;
      DROP TRIGGER records_prune_only;
      DROP TRIGGER state_forward_only;
      DROP TRIGGER state_single_row;

      CREATE TABLE state_v3 (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        watermark INTEGER NOT NULL,
        pruned_seq INTEGER NOT NULL,
        pruned_hash TEXT NOT NULL CHECK (length(pruned_hash) = 64),
        CHECK (0 <= pruned_seq AND pruned_seq <= watermark)
      ) STRICT;
      INSERT INTO state_v3 (id, watermark, pruned_seq, pruned_hash) SELECT id, watermark, pruned_seq, pruned_hash FROM state;
      DROP TABLE state;
      ALTER TABLE state_v3 RENAME TO state;

      CREATE TRIGGER records_append_only BEFORE INSERT ON records
      WHEN NEW.seq <> coalesce((SELECT max(seq) FROM records), (SELECT pruned_seq FROM state)) + 1
      BEGIN SELECT RAISE(ABORT, 'a journal record can only be added at head + 1'); END;

      CREATE TRIGGER records_prune_only BEFORE DELETE ON records
      WHEN OLD.seq > (SELECT watermark FROM state) OR OLD.seq >= (SELECT max(seq) FROM records)
      BEGIN SELECT RAISE(ABORT, 'only acknowledged records before the head can be pruned'); END;

      CREATE TRIGGER state_forward_only BEFORE UPDATE ON state
      WHEN NEW.watermark < OLD.watermark OR NEW.pruned_seq < OLD.pruned_seq
        OR NEW.watermark > coalesce((SELECT max(seq) FROM records), NEW.pruned_seq)
      BEGIN SELECT RAISE(ABORT, 'the watermark and prune point only move forward, and never past the head'); END;

      CREATE TRIGGER state_single_row BEFORE DELETE ON state
      BEGIN SELECT RAISE(ABORT, 'the journal state row cannot be deleted'); END;
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function newerError(file: string, found: number): CapanodeError {
  return new CapanodeError('journal-schema', `journal ${file} has schema version ${found}; this capanode knows versions up to ${SCHEMA_VERSION}`, {
    hint: 'It was written by a newer capanode. Upgrade capanode; never downgrade it over a journal that a newer version has used.',
    details: { file, found, known: SCHEMA_VERSION },
  });
}

/**
 * Brings the journal to `target` (default: the current version) in one
 * exclusive transaction, so a crash leaves it at the old version or the new
 * one. Returns the version found before migrating.
 */
export function migrate(db: Db, file: string, target: number = SCHEMA_VERSION): number {
  return db.transaction(() => {
    const found = schemaVersion(db);
    if (found > SCHEMA_VERSION) throw newerError(file, found);
    for (const m of MIGRATIONS) {
      if (m.version <= found || m.version > target) continue;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    return found;
  }).exclusive();
}

/** For read-only opens, which cannot migrate: the journal must be at the current version. */
export function assertCurrentSchema(db: Db, file: string): void {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) throw newerError(file, found);
  if (found < SCHEMA_VERSION) {
    throw new CapanodeError('journal-schema', `journal ${file} has schema version ${found}; this capanode reads version ${SCHEMA_VERSION}`, {
      hint: found === 0 ? 'The file is not a capanode journal yet (the daemon has never started on it).' : 'Start the daemon once (`capanode start`): it upgrades the journal in place.',
      details: { file, found, known: SCHEMA_VERSION },
    });
  }
}
