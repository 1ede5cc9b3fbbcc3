import { resolve } from 'node:path';
import { CapanodeError } from '../../common/errors.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type * from './types.js';
export type * from './ledger-types.js';
export type * from './job-types.js';
export { COORDINATOR_JOB_STATES, OPEN_JOB_STATES, USAGE_REFUSAL_CODES } from './job-types.js';
export { openSqliteStore, SqliteStore, SQLITE_SCHEMA_VERSION } from './sqlite.js';
export { openPostgresStore, PostgresStore } from './postgres.js';

/** True for a `postgres://` or `postgresql://` store URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** The file of a `sqlite:FILE` store URL, resolved; throws config-invalid for any other form. */
export function sqliteFileOf(url: string): string {
  const m = /^sqlite:(.+)$/.exec(url);
  if (m === null) {
    throw new CapanodeError('config-invalid', `--store ${url}: unsupported store`, { hint: 'Use --store sqlite:FILE (e.g. sqlite:/var/lib/capanode-coordinator/ledger.db) or postgres://USER@HOST/DB.' });
  }
  return resolve(m[1] as string);
}

/** Opens the store a `--store` URL names (a PostgreSQL store connects and migrates on first use). */
export function openStore(url: string, options: { readonly?: boolean } = {}): Store {
  if (isPostgresUrl(url)) return openPostgresStore(url);
  return openSqliteStore(sqliteFileOf(url), options);
}
