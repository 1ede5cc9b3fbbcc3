import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportLines, MAX_EXPORT_LINE, verifyExportFile } from '../../../agent/journal/index.js';
import { fill, tempJournal } from '../../helpers/journal-util.js';
import { tempDir } from '../../helpers/tmp.js';

describe('exports', () => {
  it('streams records in batches from any seq, and verifies the result', async () => {
    const { journal } = tempJournal();
    await fill(journal, 1100);
    const all = [...exportLines(journal)];
    expect(all).toHaveLength(1100);
    expect([...exportLines(journal, 1000)]).toEqual(all.slice(999));
    journal.close();
    const file = join(tempDir(), 'all.jsonl');
    // The last line may lack its newline.
    writeFileSync(file, all.join('').trimEnd());
    expect(await verifyExportFile(file)).toMatchObject({ ok: true, summary: { records: 1100 } });
  });

  it('refuses a line longer than a record can be, without buffering it all', async () => {
    const file = join(tempDir(), 'long.jsonl');
    writeFileSync(file, `"${'x'.repeat(MAX_EXPORT_LINE + 10)}"\n`);
    expect(await verifyExportFile(file)).toMatchObject({ ok: false, problem: { code: 'bad-input', line: 1 } });
  });

  it('verifies an empty export as zero records', async () => {
    const file = join(tempDir(), 'empty.jsonl');
    writeFileSync(file, '');
    expect(await verifyExportFile(file)).toMatchObject({ ok: true, summary: { records: 0, nodes: [] } });
  });
});
