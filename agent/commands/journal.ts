/**
 * `capanode journal verify | export | tail`: the local journal, read-only, so
 * they work while the daemon writes. `journal verify --file` checks an export
 * from any number of nodes.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { exportLines, JournalReader, verifyExportFile, verifyJournal, type JournalRecord } from '../journal/index.js';
import { pathsFrom, withCommonOptions, type CommonOptions } from './options.js';

interface VerifyOptions extends CommonOptions {
  file?: string;
}
interface ExportOptions extends CommonOptions {
  from?: number;
  out?: string;
}
interface TailOptions extends CommonOptions {
  lines: number;
  follow?: boolean;
}

const FOLLOW_POLL_MS = 500;
const TAMPER_HINT =
  'The journal was altered or damaged after it was signed. Keep the file as it is (capanode never repairs it by re-signing); restore journal.db from a backup, or ask the coordinator operator what it holds for this node.';

function positiveInt(name: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function openReader(opts: CommonOptions, check = false): JournalReader {
  return JournalReader.open(pathsFrom(opts).journalFile, { check });
}

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

async function verifyFile(file: string, json: boolean): Promise<void> {
  const result = await verifyExportFile(file);
  if (!result.ok) {
    const p = result.problem;
    const where = [`line ${p.line}`, p.node === null ? null : `node ${p.node}`, p.seq === null ? null : `seq ${p.seq}`].filter((x) => x !== null).join(', ');
    throw new CapanodeError(p.code, `${file}: ${where}: ${p.message}`, {
      hint: p.code === 'bad-input' ? 'Each line of an export is one record {"env":{...},"sig":HEX128}, as `capanode journal export` writes.' : 'The export does not hold a valid chain from that line on; records before it verified.',
      details: { file, line: p.line, node: p.node, seq: p.seq, path: p.path },
    });
  }
  const s = result.summary;
  if (json) {
    printJson({ ok: true, file, records: s.records, nodes: s.nodes });
    return;
  }
  const out = [`ok: ${file}: ${s.records} records from ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}`];
  for (const n of s.nodes) out.push(`  node ${n.node}: seq ${n.firstSeq}..${n.headSeq} (${n.records} records), head ${n.headHash}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function verifyLocal(opts: CommonOptions): void {
  const file = pathsFrom(opts).journalFile;
  const reader = openReader(opts, true);
  try {
    const result = verifyJournal(reader);
    if (!result.ok) {
      const p = result.problem;
      throw new CapanodeError(p.code, `journal ${file}${p.seq === null ? '' : `, seq ${p.seq}`}: ${p.message}`, { hint: TAMPER_HINT, details: { file, seq: p.seq, path: p.path } });
    }
    const s = result.summary;
    if (opts.json === true) {
      printJson({ ok: true, file, ...s });
      return;
    }
    const range = s.headSeq === null ? 'no records yet' : `seq ${s.firstSeq ?? '?'}..${s.headSeq} (${s.records} records${s.prunedThrough > 0 ? `, 1..${s.prunedThrough} pruned` : ''}), head ${s.headHash ?? ''}`;
    process.stdout.write(
      `ok: journal ${file}\n  node ${s.nodeId}\n  ${range}\n  acknowledged through seq ${s.watermark}, ${s.backlog} in backlog${s.rejected > 0 ? `, ${s.rejected} REJECTED` : ''}\n`,
    );
  } finally {
    reader.close();
  }
}

/** Writes to a temporary file next to `out`, fsyncs and renames: a reader never sees half an export. */
function exportToFile(reader: JournalReader, from: number, out: string): number {
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw new CapanodeError('io-error', `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Check that the directory exists and is writable.', cause: e });
  }
  let count = 0;
  try {
    let batch: string[] = [];
    for (const line of exportLines(reader, from)) {
      batch.push(line);
      count += 1;
      if (batch.length === 1000) {
        writeSync(fd, batch.join(''));
        batch = [];
      }
    }
    if (batch.length > 0) writeSync(fd, batch.join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, out);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw new CapanodeError('io-error', `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Check free space and permissions.', cause: e });
  }
  return count;
}

/** Returns how many records were written, or null when the reader closed the pipe first (`| head`). */
async function exportToStdout(reader: JournalReader, from: number): Promise<number | null> {
  let count = 0;
  const pipe = { broken: false };
  process.stdout.on('error', () => (pipe.broken = true)); // a closed pipe (`| head`) ends the export quietly
  for (const line of exportLines(reader, from)) {
    if (pipe.broken) break;
    count += 1;
    if (!process.stdout.write(line)) {
      try {
        await once(process.stdout, 'drain');
      } catch {
        pipe.broken = true; // once() rejects on the stream's 'error' (EPIPE)
      }
    }
  }
  return pipe.broken ? null : count;
}

function describeRecord(r: JournalRecord, watermark: number): string {
  const state = r.rejected !== null ? `REJECTED ${r.rejected.code}: ${r.rejected.reason}` : r.seq <= watermark ? 'acked' : 'backlog';
  return `${String(r.seq).padStart(8)}  ${new Date(r.time).toISOString()}  ${r.kind.padEnd(10)}  ${short(r.hash)}  ${state}`;
}

async function tail(opts: TailOptions): Promise<void> {
  const reader = openReader(opts);
  try {
    const head = reader.head();
    let last = head === null ? 0 : Math.max(0, head.seq - opts.lines);
    const print = () => {
      const watermark = reader.watermark();
      for (;;) {
        const records = reader.records(last + 1, 256);
        for (const r of records) process.stdout.write(`${describeRecord(r, watermark)}\n`);
        const tip = records.at(-1);
        if (tip === undefined) return;
        last = tip.seq;
      }
    };
    if (opts.follow !== true) {
      print();
      return;
    }
    // Signals are caught before the first line is printed: a Ctrl-C at any moment ends cleanly.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const stopped = () => stop.signal.aborted;
    try {
      print();
      for (;;) {
        try {
          await sleep(FOLLOW_POLL_MS, undefined, { signal: stop.signal });
        } catch {
          // aborted by a signal: stop following
        }
        if (stopped()) break;
        print();
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    reader.close();
  }
}

export function registerJournalCommands(program: Command): void {
  const journal = program.command('journal').description('the local journal of signed attestations (read-only; works while the daemon runs)');

  withCommonOptions(
    journal
      .command('verify')
      .description('check signatures, the chain and the acknowledged watermark of the local journal, or of an export with --file')
      .option('--file <file>', 'verify a JSON Lines export (any number of nodes) instead of the local journal')
      .option('--json', 'print JSON'),
  ).action(
    action(async (opts: VerifyOptions) => {
      if (opts.file !== undefined) await verifyFile(opts.file, opts.json === true);
      else verifyLocal(opts);
    }),
  );

  withCommonOptions(
    journal
      .command('export')
      .description('write the journal\'s records as JSON Lines, one {"env","sig"} record a line (stdout unless --out)')
      .option('--from <seq>', 'first seq to export (default: the first record held)', positiveInt('--from', 1))
      .option('--out <file>', 'write to FILE (atomically) instead of stdout'),
  ).action(
    action(async (opts: ExportOptions) => {
      const reader = openReader(opts);
      try {
        const first = reader.firstSeq();
        const from = opts.from ?? first ?? 1;
        const count = opts.out === undefined ? await exportToStdout(reader, from) : exportToFile(reader, from, opts.out);
        if (count === null) return;
        const pruned = first !== null && from < first ? ` (records before seq ${first} were removed by retention after the coordinator acknowledged them)` : '';
        process.stderr.write(`exported ${count} record${count === 1 ? '' : 's'}${opts.out === undefined ? '' : ` to ${opts.out}`}${pruned}\n`);
      } finally {
        reader.close();
      }
    }),
  );

  withCommonOptions(
    journal
      .command('tail')
      .description('print the last records: seq, time, kind, hash, and whether the coordinator acknowledged them')
      .option('-n, --lines <n>', 'how many records', positiveInt('-n', 0), 10)
      .option('--follow', 'keep printing records as they are signed (Ctrl-C to stop)'),
  ).action(action((opts: TailOptions) => tail(opts)));
}
