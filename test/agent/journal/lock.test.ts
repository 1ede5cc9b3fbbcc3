import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalReader, openJournal } from '../../../agent/journal/index.js';
import { toHex } from '../../../proofs/keys.js';
import { thrown } from '../../helpers/errors.js';
import { JournalChild } from '../../helpers/journal-child.js';
import { tempJournal } from '../../helpers/journal-util.js';
import { testKey } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';

describe('one writer per journal', () => {
  it('refuses a second writer in the same process, naming the holder, and frees the lock on close', () => {
    const { journal, file, key } = tempJournal();
    const e = thrown(() => openJournal({ file, key }));
    expect(e.code).toBe('journal-locked');
    expect(e.message).toContain(`pid ${process.pid}`);
    expect(e.details).toMatchObject({ pid: process.pid });
    expect(readFileSync(`${file}.pid`, 'utf8').trim()).toBe(String(process.pid));
    journal.close();
    expect(existsSync(`${file}.pid`)).toBe(false);
    const again = openJournal({ file, key });
    again.close();
  });

  it('lets exactly one of several processes write; the others get journal-locked naming it', async () => {
    const file = join(tempDir('capanode-lock-'), 'journal.db');
    const seed = toHex(testKey('lock').secretKey);
    const children = Array.from({ length: 4 }, () => new JournalChild('hold', file, seed));
    await Promise.all(children.map((c) => c.waitFor((l) => l === 'ready')));
    for (const c of children) c.go();
    const outcomes = await Promise.all(children.map((c) => c.waitFor((l) => l.startsWith('held ') || l.startsWith('error '))));
    const holders = outcomes.filter((o) => o.startsWith('held '));
    expect(holders).toHaveLength(1);
    const holderPid = Number(holders[0]!.split(' ')[1]);
    for (const o of outcomes.filter((x) => x.startsWith('error '))) {
      const err = JSON.parse(o.slice('error '.length)) as { code: string; message: string };
      expect(err.code).toBe('journal-locked');
      expect(err.message).toContain(`pid ${holderPid}`);
    }
    const holder = children[outcomes.indexOf(holders[0]!)]!;
    await holder.waitFor((l) => l.startsWith('seq '));
    // Readers are not writers: they read while the holder holds the lock.
    const reader = JournalReader.open(file);
    expect(reader.head()?.seq).toBe(1);
    reader.close();
    holder.finish();
    expect(await holder.exited).toBe(0);
    for (const c of children) await c.exited;
  });

  it('is released by the kernel when the holder is killed', async () => {
    const file = join(tempDir('capanode-lock-'), 'journal.db');
    const key = testKey('lock');
    const child = new JournalChild('hold', file, toHex(key.secretKey));
    await child.waitFor((l) => l === 'ready');
    child.go();
    await child.waitFor((l) => l.startsWith('seq '));
    expect(thrown(() => openJournal({ file, key })).code).toBe('journal-locked');
    await child.kill();
    // The dead holder's pid file is left behind; it names no one and decides nothing.
    const journal = openJournal({ file, key });
    expect(journal.head()?.seq).toBe(1);
    journal.close();
  });
});
