/**
 * One writer per journal (DESIGN §9).
 *
 * The lock is an OS lock, not a pid file: `<journal>.lock` is a small SQLite
 * database that the writer holds in locking_mode=EXCLUSIVE, i.e. a POSIX
 * record lock the kernel drops when the process dies, kill -9 and power cuts
 * included. So there is nothing stale to detect and no pid reuse after a
 * reboot can keep the daemon from starting. The journal itself stays open to
 * readers (`status`, `journal verify|export|tail`) while the daemon writes.
 *
 * `<journal>.pid` says who holds the lock; it is only ever read to name the
 * holder in the error, never to decide who holds it.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { CapanodeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/keyfile.js';
import type { Db } from './sqlite.js';

export interface WriterLock {
  readonly lockFile: string;
  readonly pidFile: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderPid(pidFile: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** The holder writes its pid file right after it takes the lock: give it a moment, so the error can name it. */
function waitForHolderPid(pidFile: string): number | null {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 50; i++) {
    const pid = holderPid(pidFile);
    if (pid !== null) return pid;
    Atomics.wait(pause, 0, 0, 10);
  }
  return null;
}

function lockedError(journalFile: string, pidFile: string, cause: unknown): CapanodeError {
  const pid = waitForHolderPid(pidFile);
  const who = pid === null ? 'another capanode process (its pid is not known yet: it may be starting)' : `another capanode process (pid ${pid})`;
  return new CapanodeError('journal-locked', `journal ${journalFile} is in use by ${who}`, {
    hint:
      `Only one daemon may write a journal. Stop the running one (\`systemctl stop capanode\`${pid === null ? '' : ` or \`kill ${pid}\``}) or give this one its own --data-dir. ` +
      'Read-only commands (status, journal verify|export|tail) work while it runs.',
    cause,
    details: { file: journalFile, pid },
  });
}

/** Takes the writer lock for journalFile, or throws journal-locked naming the holder's pid. */
export function acquireWriterLock(journalFile: string): WriterLock {
  const lockFile = `${journalFile}.lock`;
  const pidFile = `${journalFile}.pid`;
  mkdirSync(dirname(journalFile), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(lockFile, { timeout: 0 });
  } catch (e) {
    throw new CapanodeError('io-error', `cannot create the journal lock ${lockFile}`, { hint: `Check that ${dirname(journalFile)} is writable by the capanode user.`, cause: e });
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // In exclusive locking mode the lock taken here is kept until the connection closes.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (e) {
    db.close();
    if (e instanceof Database.SqliteError && e.code === 'SQLITE_BUSY') throw lockedError(journalFile, pidFile, e);
    throw new CapanodeError('io-error', `cannot take the journal lock ${lockFile}: ${e instanceof Error ? e.message : String(e)}`, {
      hint: `Check that ${dirname(journalFile)} is writable and on a local filesystem (POSIX locks are needed).`,
      cause: e,
    });
  }
  try {
    writeFileAtomic(pidFile, `${process.pid}\n`, { mode: 0o644, overwrite: true });
  } catch {
    // The pid file only names the holder in messages; the lock holds without it.
  }
  let held = true;
  return {
    lockFile,
    pidFile,
    release() {
      if (!held) return;
      held = false;
      try {
        if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
      } catch {
        // already gone
      }
      db.close();
    },
  };
}
