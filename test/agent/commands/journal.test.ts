/** `capanode journal verify | export | tail`, run as the real CLI (dist/agent/cli.js) on real journals. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openJournal } from '../../../agent/journal/index.js';
import { recordLine } from '../../../proofs/envelope.js';
import { AGENT_CLI, runCli } from '../../helpers/cli.js';
import { fill, tamper, tempJournal } from '../../helpers/journal-util.js';
import { testKey, uptimeBody } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/tmp.js';

/** A data dir whose journal holds `count` records, acknowledged through `acked`. */
async function dataDir(count: number, acked = 0, key = testKey()): Promise<string> {
  const dir = tempDir('capanode-cli-journal-');
  const journal = openJournal({ file: join(dir, 'journal.db'), key });
  await fill(journal, count);
  if (acked > 0) journal.ack(acked);
  journal.close();
  return dir;
}

async function exportOf(dir: string, ...args: string[]): Promise<string> {
  const r = await runCli(['journal', 'export', '--data-dir', dir, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function noStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
}

interface VerifyJson {
  ok: boolean;
  records?: number;
  nodes?: { node: string; firstSeq: number; headSeq: number; headHash: string; records: number }[];
  error?: { code: string; message: string; details?: { line?: number; node?: string | null; seq?: number | null; path?: string } };
}

async function verifyFile(file: string): Promise<{ code: number | null; json: VerifyJson; stderr: string }> {
  const r = await runCli(['journal', 'verify', '--file', file, '--json']);
  noStackTrace(r.stderr);
  return { code: r.code, json: JSON.parse(r.stdout) as VerifyJson, stderr: r.stderr };
}

describe('capanode journal export', () => {
  it('writes every record as one canonical JSON line, byte for byte what was signed', async () => {
    const { journal, dir } = tempJournal();
    await fill(journal, 5);
    const expected = journal.records(1, 10).map((r) => `${recordLine({ env: r.env, sig: r.sig })}\n`).join('');
    journal.close();
    expect(await exportOf(dir)).toBe(expected);
    const lines = (await exportOf(dir, '--from', '4')).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { env: { seq: number } }).env.seq)).toEqual([4, 5]);
  });

  it('writes a file atomically with --out, and reports the count on stderr', async () => {
    const dir = await dataDir(7);
    const out = join(tempDir(), 'export.jsonl');
    const r = await runCli(['journal', 'export', '--data-dir', dir, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('exported 7 records');
    expect(readFileSync(out, 'utf8')).toBe(await exportOf(dir));
  });

  it('reads while a daemon holds the journal for writing', async () => {
    const { journal, dir } = tempJournal();
    await fill(journal, 3);
    expect((await exportOf(dir)).trimEnd().split('\n')).toHaveLength(3);
    journal.close();
  });

  it('refuses a bad --from as a usage error', async () => {
    const r = await runCli(['journal', 'export', '--data-dir', await dataDir(1), '--from', 'abc']);
    expect(r.code).toBe(2);
  });
});

describe('capanode journal verify --file', () => {
  it('accepts an export and summarises it per node', async () => {
    const dir = await dataDir(6);
    const file = join(tempDir(), 'a.jsonl');
    writeFileSync(file, await exportOf(dir));
    const { code, json } = await verifyFile(file);
    expect(code).toBe(0);
    expect(json).toMatchObject({ ok: true, records: 6, nodes: [{ node: testKey().id, firstSeq: 1, headSeq: 6, records: 6 }] });
    const human = await runCli(['journal', 'verify', '--file', file]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('6 records from 1 node');
  });

  it('accepts exports of several nodes, and a partial export from --from', async () => {
    const a = await dataDir(4, 0, testKey('a'));
    const b = await dataDir(3, 0, testKey('b'));
    const file = join(tempDir(), 'two.jsonl');
    writeFileSync(file, (await exportOf(a, '--from', '2')) + (await exportOf(b)));
    const { code, json } = await verifyFile(file);
    expect(code).toBe(0);
    expect(json.records).toBe(6);
    expect(json.nodes?.map((n) => [n.node, n.firstSeq, n.headSeq])).toEqual(
      [
        [testKey('a').id, 2, 4],
        [testKey('b').id, 1, 3],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
  });

  it('names the line, node, seq, field and code of the first bad record', async () => {
    const lines = (await exportOf(await dataDir(5))).trimEnd().split('\n');
    const file = join(tempDir(), 'bad.jsonl');
    expect(lines[2]).toContain('"elapsedUs":120003');
    lines[2] = lines[2]!.replace('"elapsedUs":120003', '"elapsedUs":120004');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { code, json, stderr } = await verifyFile(file);
    expect(code).toBe(1);
    expect(json).toMatchObject({ ok: false, error: { code: 'bad-signature', details: { line: 3, node: testKey().id, seq: 3, path: 'sig' } } });
    expect(stderr).toContain('line 3');
  });

  it('reports a gap, a duplicate and an equivocation with their codes', async () => {
    const lines = (await exportOf(await dataDir(4))).trimEnd().split('\n');
    const write = (name: string, content: string[]) => {
      const f = join(tempDir(), name);
      writeFileSync(f, `${content.join('\n')}\n`);
      return f;
    };
    expect((await verifyFile(write('gap.jsonl', [lines[0]!, lines[2]!]))).json.error).toMatchObject({ code: 'seq-gap', details: { line: 2, seq: 3 } });
    expect((await verifyFile(write('dup.jsonl', [lines[0]!, lines[1]!, lines[1]!]))).json.error).toMatchObject({ code: 'duplicate-seq', details: { line: 3 } });
    // The same key signed another record 2 in another journal: two valid records for one seq.
    const { journal, dir } = tempJournal();
    await fill(journal, 1);
    await journal.append('uptime', uptimeBody(77));
    journal.close();
    const forked = (await exportOf(dir)).trimEnd().split('\n');
    expect(forked[0]).toBe(lines[0]);
    expect((await verifyFile(write('eq.jsonl', [lines[0]!, lines[1]!, forked[1]!]))).json.error).toMatchObject({ code: 'equivocation', details: { line: 3, seq: 2 } });
  });

  it('reports unreadable files, empty lines and invalid JSON without a stack trace', async () => {
    const good = (await exportOf(await dataDir(2))).trimEnd().split('\n');
    const missing = await verifyFile(join(tempDir(), 'missing.jsonl'));
    expect(missing).toMatchObject({ code: 1, json: { ok: false, error: { code: 'io-error' } } });
    const dirAsFile = await verifyFile(tempDir());
    expect(dirAsFile).toMatchObject({ code: 1, json: { error: { code: 'io-error' } } });
    const empty = join(tempDir(), 'empty-line.jsonl');
    writeFileSync(empty, `${good[0]!}\n\n${good[1]!}\n`);
    expect((await verifyFile(empty)).json.error).toMatchObject({ code: 'bad-input', details: { line: 2 } });
    const notJson = join(tempDir(), 'not-json.jsonl');
    writeFileSync(notJson, `${good[0]!}\n{"env":\n`);
    expect((await verifyFile(notJson)).json.error).toMatchObject({ code: 'bad-input', details: { line: 2 } });
    const notRecord = join(tempDir(), 'not-record.jsonl');
    writeFileSync(notRecord, '[1,2]\n');
    expect((await verifyFile(notRecord)).json.error).toMatchObject({ code: 'schema', details: { line: 1 } });
    const human = await runCli(['journal', 'verify', '--file', notJson]);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/bad-input: .*line 2 is not valid JSON/);
    noStackTrace(human.stderr);
  });
});

describe('capanode journal verify (local journal)', () => {
  it('passes an intact journal and prints its summary', async () => {
    const dir = await dataDir(5, 2);
    const r = await runCli(['journal', 'verify', '--data-dir', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, nodeId: testKey().id, records: 5, headSeq: 5, watermark: 2, backlog: 3 });
    const human = await runCli(['journal', 'verify', '--data-dir', dir]);
    expect(human.stdout).toContain('acknowledged through seq 2, 3 in backlog');
  });

  it('fails a tampered journal with the code of what was done', async () => {
    const dir = await dataDir(5);
    tamper(join(dir, 'journal.db'), 'DELETE FROM records WHERE seq = 3');
    const r = await runCli(['journal', 'verify', '--data-dir', dir, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'seq-gap', details: { seq: 4 } } });
    noStackTrace(r.stderr);
  });

  it('says there is no journal yet', async () => {
    const r = await runCli(['journal', 'verify', '--data-dir', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('journal-missing');
  });
});

describe('capanode journal tail', () => {
  it('prints the last N records with their acknowledgement state', async () => {
    const { journal, dir } = tempJournal();
    await fill(journal, 6);
    journal.ack(4);
    journal.reject(6, 'clock-skew', 'six minutes ahead');
    journal.close();
    const r = await runCli(['journal', 'tail', '-n', '3', '--data-dir', dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\s+4\s.*acked$/);
    expect(lines[1]).toMatch(/^\s+5\s.*backlog$/);
    expect(lines[2]).toMatch(/^\s+6\s.*REJECTED clock-skew: six minutes ahead$/);
  });

  it('follows new records as they are signed, and stops on SIGINT', async () => {
    const { journal, dir } = tempJournal();
    await fill(journal, 2);
    const child = spawn(process.execPath, [AGENT_CLI, 'journal', 'tail', '--follow', '-n', '1', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waitFor = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(out)) resolve();
        };
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          check();
        });
        child.on('exit', () => reject(new Error(`tail exited early: ${out}`)));
        check();
      });
    await waitFor(/^\s+2\s/m);
    await fill(journal, 1);
    await waitFor(/^\s+3\s/m);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/^\s+1\s/m);
    journal.close();
  });
});
