/**
 * PostgreSQL for the store tests: each call to freshPostgresUrl() creates an
 * empty database on the test server and drops it when the file's suite ends.
 * The server is TEST_PG_URL (a URL to a database the role may CREATE
 * DATABASE from), else the local one on its Unix socket. Without a server
 * the PostgreSQL variants are skipped with the reason printed, unless
 * TEST_REQUIRE_PG=1 (.ci/run sets it): then a missing server fails.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { tempDir } from './tmp.js';

const ADMIN_URL = process.env.TEST_PG_URL ?? `postgres://${userInfo().username}@/postgres?host=/var/run/postgresql`;

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (e) {
    return `no PostgreSQL at ${ADMIN_URL} (${e instanceof Error ? e.message : String(e)}); set TEST_PG_URL or run .ci/run, which installs and starts one`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why PostgreSQL tests cannot run here, or null when they can. Throws under TEST_REQUIRE_PG=1. */
export const postgresUnavailable: string | null = await probe();
if (postgresUnavailable !== null) {
  if (process.env.TEST_REQUIRE_PG === '1') throw new Error(`TEST_REQUIRE_PG=1 but ${postgresUnavailable}`);
  console.warn(`PostgreSQL store tests skipped: ${postgresUnavailable}`);
}

const made: string[] = [];
let hooked = false;

/** A URL to a new, empty database (dropped after the test file). */
export async function freshPostgresUrl(): Promise<string> {
  const name = `capanode_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  made.push(name);
  if (!hooked) {
    hooked = true;
    afterAll(async () => {
      const drop = new pg.Client({ connectionString: ADMIN_URL });
      await drop.connect();
      try {
        for (const db of made.splice(0)) await drop.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      } finally {
        await drop.end();
      }
    });
  }
  const m = /^(postgres(?:ql)?:\/\/[^/?]*)(?:\/[^?]*)?(\?.*)?$/.exec(ADMIN_URL);
  if (m === null) throw new Error(`TEST_PG_URL ${ADMIN_URL} is not a postgres:// URL`);
  return `${m[1] ?? ''}/${name}${m[2] ?? ''}`;
}

/** The store kinds a suite runs against: SQLite always, PostgreSQL when a server answers. */
export const STORE_KINDS: ('sqlite' | 'postgres')[] = postgresUnavailable === null ? ['sqlite', 'postgres'] : ['sqlite'];

/** A fresh store URL of the given kind: a new SQLite file or a new PostgreSQL database. */
export async function freshStoreUrl(kind: 'sqlite' | 'postgres'): Promise<string> {
  return kind === 'postgres' ? freshPostgresUrl() : `sqlite:${join(tempDir('capanode-store-'), 'ledger.db')}`;
}
