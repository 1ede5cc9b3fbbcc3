/**
 * The PostgreSQL store's schema: the SQLite store's migrations, version for
 * version, with 64-bit integers (SQLite's INTEGER is 64-bit; PostgreSQL's is
 * not) and a serial id on verdicts where SQLite's queries use the rowid.
 * Deriving one from the other keeps the two stores' tables identical, so
 * they share their row mappers and their test suite.
 */
import { SQLITE_MIGRATIONS } from './sqlite.js';

function toPostgres(sql: string, version: number): string {
  const ddl = sql.replace(/\bINTEGER\b/g, 'BIGINT');
  return version === 0 ? `${ddl};\nALTER TABLE verdicts ADD COLUMN id BIGSERIAL UNIQUE;` : ddl;
}

export const PG_MIGRATIONS: readonly string[] = SQLITE_MIGRATIONS.map(toPostgres);
