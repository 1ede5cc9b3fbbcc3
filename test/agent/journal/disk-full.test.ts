/**
 * Disk full and read-only: no signature leaves, what was committed stays
 * intact, status sees the condition, and appends resume by themselves once
 * writes succeed. Two ways to fill the disk: a real tiny tmpfs when the test
 * may mount one (root), and SQLite's max_page_count everywhere. A read-only
 * remount cannot be made while the journal is open (EBUSY), so read-only is
 * covered by the error mapping in sqlite.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Journal } from '../../../agent/journal/index.js';
import type { CapanodeError } from '../../../common/errors.js';
import { rejection } from '../../helpers/errors.js';
import { fill, tempJournal, verifyFile } from '../../helpers/journal-util.js';
import { uptimeBody } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';

function tryMountTmpfs(dir: string, size: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mountDir = join(tempDir('capanode-tmpfs-'), 'mnt');
mkdirSync(mountDir);
const tmpfs = tryMountTmpfs(mountDir, '1m');
afterAll(() => {
  if (tmpfs) execFileSync('umount', ['-l', mountDir]);
});

/** Appends until the disk refuses one; returns that error. */
async function appendUntilRefused(journal: Journal): Promise<CapanodeError> {
  for (let i = 0; i < 20_000; i++) {
    const before = journal.head();
    try {
      await journal.append('uptime', uptimeBody(i));
    } catch (e) {
      // Nothing of the refused record exists: the head did not move.
      expect(journal.head()).toEqual(before);
      return e as CapanodeError;
    }
  }
  throw new Error('the disk never filled up');
}

function expectRefusedCleanly(journal: Journal, e: CapanodeError, code: 'journal-full' | 'journal-io'): void {
  expect(e.code).toBe(code);
  expect(e.hint).toMatch(/resumes/);
  // No signature in what the caller got back.
  expect(JSON.stringify(e.toJSON())).not.toMatch(/[0-9a-f]{128}/);
  expect(journal.stats().condition).toMatchObject({ code });
}

function expectIntact(file: string, headSeq: number): void {
  expect(verifyFile(file)).toMatchObject({ ok: true, summary: { headSeq } });
}

describe('a full disk (SQLite max_page_count)', () => {
  it('refuses without signing, keeps earlier records, and resumes when space returns', async () => {
    const { journal, file } = tempJournal({ maxBytes: 64 * 1024 });
    const e = await appendUntilRefused(journal);
    expectRefusedCleanly(journal, e, 'journal-full');
    const head = journal.head()!;
    const since = journal.stats().condition?.since;
    // Still full: refused again, the condition keeps its start.
    expect((await rejection(journal.append('uptime', uptimeBody(0)))).code).toBe('journal-full');
    expect(journal.stats().condition?.since).toBe(since);
    expectIntact(file, head.seq);
    // Space returns: the coordinator acknowledged everything and retention frees pages.
    journal.ack(head.seq);
    expect(journal.prune(0, Number.MAX_SAFE_INTEGER).deleted).toBeGreaterThan(0);
    const next = await journal.append('uptime', uptimeBody(1));
    expect(next.env).toMatchObject({ seq: head.seq + 1, prev: head.hash });
    expect(journal.stats().condition).toBeNull();
    journal.close();
    expectIntact(file, head.seq + 1);
  });
});

describe.skipIf(!tmpfs)('a full disk (a real 1 MiB tmpfs, mounted when the test runs as root)', () => {
  it('refuses without signing, keeps earlier records, and resumes when space returns', async () => {
    const file = join(mountDir, 'journal.db');
    const filler = join(mountDir, 'filler');
    const { journal } = tempJournal({ file });
    await fill(journal, 20);
    // Take every free byte of the filesystem.
    const fd = openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(4096, 1);
      for (;;) writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const e = await appendUntilRefused(journal);
    expectRefusedCleanly(journal, e, 'journal-full');
    const head = journal.head()!;
    expect((await rejection(journal.append('uptime', uptimeBody(0)))).code).toBe('journal-full');
    expectIntact(file, head.seq);

    rmSync(filler);
    const next = await journal.append('uptime', uptimeBody(1));
    expect(next.env).toMatchObject({ seq: head.seq + 1, prev: head.hash });
    expect(journal.stats().condition).toBeNull();

    journal.close();
    expectIntact(file, head.seq + 1);
  });
});
