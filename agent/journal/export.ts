/**
 * Journal exports: JSON Lines, one record `{"env":...,"sig":...}` a line
 * (DESIGN §4), written from the stored bytes so an export is byte-stable, and
 * verified as a stream so a file of any size goes through in constant memory.
 */
import { createReadStream } from 'node:fs';
import { CapanodeError, type ErrorCode } from '../../common/errors.js';
import { ChainVerifier, type ChainSummary } from '../../proofs/chain.js';
import type { JournalReader } from './reader.js';
import { exportLine } from './records.js';

const EXPORT_BATCH = 1000;
/** A record is at most 1 MiB on the wire (DESIGN §5); a longer line is not a record. */
export const MAX_EXPORT_LINE = 1024 * 1024;

/** The journal's records with seq >= fromSeq, in order, each as one line with its newline. */
export function* exportLines(reader: JournalReader, fromSeq = 1): Generator<string> {
  let from = Math.max(1, fromSeq);
  for (;;) {
    const rows = reader.rows(from, EXPORT_BATCH);
    for (const row of rows) yield `${exportLine(row)}\n`;
    const last = rows.at(-1);
    if (last === undefined || rows.length < EXPORT_BATCH) return;
    from = last.seq + 1;
  }
}

export interface ExportProblem {
  code: ErrorCode;
  /** 1-based line number in the file. */
  line: number;
  node: string | null;
  seq: number | null;
  /** Path to the offending field; '' for the whole line. */
  path: string;
  message: string;
}

export type ExportVerification = { ok: true; summary: ChainSummary } | { ok: false; problem: ExportProblem; summary: ChainSummary };

type Line = { ok: true; text: string } | { ok: false; tooLong: true };

/** Splits a byte stream into lines, refusing one longer than max bytes instead of buffering it. */
async function* splitLines(chunks: AsyncIterable<Buffer>, max: number): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
      const piece = chunk.subarray(start, nl);
      if (pendingBytes + piece.length > max) {
        yield { ok: false, tooLong: true };
        return;
      }
      const text = (pending.length === 0 ? piece : Buffer.concat([...pending, piece])).toString('utf8');
      pending = [];
      pendingBytes = 0;
      yield { ok: true, text };
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > max) {
        yield { ok: false, tooLong: true };
        return;
      }
    }
  }
  if (pendingBytes > 0) yield { ok: true, text: Buffer.concat(pending).toString('utf8') };
}

function openError(file: string, e: unknown): CapanodeError {
  const code = (e as NodeJS.ErrnoException).code;
  return new CapanodeError('io-error', `cannot read ${file}: ${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(e))}`, {
    hint: 'Pass the path of a file written by `capanode journal export`.',
    cause: e,
  });
}

/**
 * Verifies a JSON Lines export holding the records of any number of nodes:
 * each line a record, signatures, one contiguous chain per node. Stops at the
 * first bad line. Throws only io-error, for a file that cannot be read.
 */
export async function verifyExportFile(file: string): Promise<ExportVerification> {
  const verifier = new ChainVerifier();
  const stream = createReadStream(file);
  let lineNo = 0;
  const fail = (problem: Omit<ExportProblem, 'line'>): ExportVerification => ({ ok: false, problem: { ...problem, line: lineNo }, summary: verifier.summary() });
  try {
    for await (const line of splitLines(stream as AsyncIterable<Buffer>, MAX_EXPORT_LINE)) {
      lineNo += 1;
      if (!line.ok) return fail({ code: 'bad-input', node: null, seq: null, path: '', message: `line ${lineNo} is longer than ${MAX_EXPORT_LINE} bytes: not a record` });
      if (line.text.trim() === '') return fail({ code: 'bad-input', node: null, seq: null, path: '', message: `line ${lineNo} is empty; an export has one record on every line` });
      let raw: unknown;
      try {
        raw = JSON.parse(line.text);
      } catch (e) {
        return fail({ code: 'bad-input', node: null, seq: null, path: '', message: `line ${lineNo} is not valid JSON (${e instanceof Error ? e.message : String(e)})` });
      }
      const checked = verifier.add(raw);
      if (!checked.ok) {
        const { code, node, seq, path, message } = checked.problem;
        return fail({ code, node, seq, path, message });
      }
    }
  } catch (e) {
    throw openError(file, e);
  } finally {
    stream.destroy();
  }
  return { ok: true, summary: verifier.summary() };
}
