import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { JournalReader, openJournal, verifyJournal, type Journal, type JournalVerification, type OpenJournalOptions } from '../../agent/journal/index.js';
import type { Kind } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { sampleBody, testKey } from './keys.js';
import { tempDir } from './tmp.js';

export const BASE_TIME = 1_700_000_000_000;
const KIND_CYCLE: readonly Kind[] = ['uptime', 'uptime', 'throughput', 'usage', 'claim'];

/** A writer on a fresh journal in a temporary directory. */
export function tempJournal(options: Partial<OpenJournalOptions> & { key?: KeyPair } = {}): { journal: Journal; file: string; dir: string; key: KeyPair } {
  const dir = tempDir('capanode-journal-');
  const file = options.file ?? join(dir, 'journal.db');
  const key = options.key ?? testKey();
  return { journal: openJournal({ now: () => BASE_TIME, ...options, file, key }), file, dir, key };
}

/** Appends `count` records of mixed kinds, times BASE_TIME + seq * 30 s. */
export async function fill(journal: Journal, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const seq = (journal.head()?.seq ?? 0) + 1;
    const kind = KIND_CYCLE[(seq - 1) % KIND_CYCLE.length] ?? 'uptime';
    await journal.append(kind, sampleBody(kind, seq), { time: BASE_TIME + seq * 30_000 });
  }
}

/** `journal verify` on a journal file (quick_check first), through a read-only connection. */
export function verifyFile(file: string): JournalVerification {
  const reader = JournalReader.open(file, { check: true });
  try {
    return verifyJournal(reader);
  } finally {
    reader.close();
  }
}

/** A copy of a committed journal fixture (test/fixtures/journal/NAME) in a temporary directory: fixtures are never opened in place. */
export function fixtureCopy(name: string): string {
  const file = join(tempDir('capanode-fixture-'), 'journal.db');
  copyFileSync(fileURLToPath(new URL(`../fixtures/journal/${name}`, import.meta.url)), file);
  return file;
}

/**
 * Runs SQL on a journal file the way an attacker (or a stray tool) would:
 * a plain connection with the journal's protective triggers dropped.
 */
export function tamper(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec('DROP TRIGGER IF EXISTS records_immutable; DROP TRIGGER IF EXISTS records_prune_only; DROP TRIGGER IF EXISTS records_append_only; DROP TRIGGER IF EXISTS state_forward_only;');
    db.exec(sql);
  } finally {
    db.close();
  }
}
