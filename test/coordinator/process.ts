/**
 * A real coordinator process for tests: `capanode-coordinator serve` from
 * dist/ (npm test builds it) on 127.0.0.1 port 0, its port read from the
 * line it prints on stderr once it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeKeyFile } from '../../common/keyfile.js';
import type { KeyPair } from '../../proofs/keys.js';
import { COORDINATOR_CLI } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

export interface CoordinatorProcess {
  child: ChildProcess;
  key: KeyPair;
  url: string;
  port: number;
  storeFile: string;
  /** Everything the process wrote, for diagnostics. */
  output(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed that was not already durable. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  dir: string;
  /** Settings as flags, camelCase keys (potDeadlineMs -> --pot-deadline-ms). */
  settings?: Record<string, string | number | boolean | null>;
  key?: KeyPair;
  storeFile?: string;
  /** A store URL (postgres://...) instead of the SQLite file. */
  storeUrl?: string;
}

function flag(key: string): string {
  return `--${key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

export async function spawnCoordinator(options: SpawnOptions): Promise<CoordinatorProcess> {
  const key = options.key ?? testKey('coordinator');
  const keyFile = join(options.dir, `coordinator-${key.id.slice(0, 8)}.key`);
  try {
    writeKeyFile(keyFile, key, { overwrite: true });
  } catch {
    // written by an earlier spawn in this directory
  }
  const storeFile = options.storeFile ?? join(options.dir, 'ledger.db');
  const settings = { listen: '127.0.0.1:0', potEnabled: false, logLevel: 'info', ...options.settings };
  const args = [COORDINATOR_CLI, 'serve', '--key', keyFile, '--store', options.storeUrl ?? `sqlite:${storeFile}`];
  for (const [k, v] of Object.entries(settings)) args.push(flag(k), String(v));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAPANODE_LOG_LEVEL: settings.logLevel } });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator did not start:\n${out}`)), 20_000);
    const scan = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const m = /listening on ws:\/\/[^\s]+:(\d+)\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', scan);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`coordinator exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    key,
    port,
    url: `ws://127.0.0.1:${port}`,
    storeFile,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** SHA-256 over every stored record, node by node, seq by seq: equal digests, equal ledgers. */
export function ledgerDigest(storeFile: string): { digest: string; records: number } {
  const db = new Database(storeFile, { readonly: true });
  try {
    const h = createHash('sha256');
    let records = 0;
    for (const row of db.prepare('SELECT node, seq, hash, canonical, sig FROM records ORDER BY node, seq').iterate() as Iterable<{ node: string; seq: number; hash: string; canonical: string; sig: string }>) {
      h.update(`${row.node}\n${row.seq}\n${row.hash}\n${row.canonical}\n${row.sig}\n`);
      records += 1;
    }
    for (const row of db.prepare('SELECT id AS node, head_seq, head_hash, banned FROM nodes ORDER BY id').iterate() as Iterable<{ node: string; head_seq: number; head_hash: string | null; banned: number }>) {
      h.update(`node ${row.node} ${row.head_seq} ${row.head_hash ?? '-'} ${row.banned}\n`);
    }
    return { digest: h.digest('hex'), records };
  } finally {
    db.close();
  }
}

/** Reads rows from the store file (read-only; the coordinator may be running). */
export function queryStore<T>(storeFile: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(storeFile, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
