/**
 * `capanode journal verify`: re-derives everything the journal claims from
 * the stored bytes. Each row's signature and hash are recomputed from its
 * canonical text, the chain is followed from the retention anchor to the
 * head, and the watermark and prune point are checked against the records.
 * Records go through the same ChainVerifier as an export, so a tampered
 * journal and its export fail with the same code.
 *
 * The head is the last record, so a journal cut short by deleting its newest
 * unacknowledged rows is still a valid journal: only the coordinator, which
 * holds what was sent, can tell (the link's head comparison, DESIGN §9).
 */
import type { ErrorCode } from '../../common/errors.js';
import { ChainVerifier } from '../../proofs/chain.js';
import { ZERO_HASH } from '../../proofs/envelope.js';
import type { JournalReader } from './reader.js';

export interface JournalProblem {
  code: ErrorCode;
  /** The seq of the row at fault; null for the journal as a whole. */
  seq: number | null;
  /** Path to the offending field ('env.prev', 'sig', 'state.watermark'); '' for the whole row. */
  path: string;
  message: string;
}

export interface JournalSummary {
  nodeId: string;
  records: number;
  firstSeq: number | null;
  headSeq: number | null;
  headHash: string | null;
  watermark: number;
  backlog: number;
  rejected: number;
  prunedThrough: number;
}

export type JournalVerification = { ok: true; summary: JournalSummary } | { ok: false; problem: JournalProblem; summary: JournalSummary };

const BATCH = 1024;

export function verifyJournal(reader: JournalReader): JournalVerification {
  const head = reader.head();
  const watermark = reader.watermark();
  const pruned = reader.prunedThrough();
  const summary: JournalSummary = {
    nodeId: reader.nodeId,
    records: 0,
    firstSeq: null,
    headSeq: head?.seq ?? null,
    headHash: head?.hash ?? null,
    watermark,
    backlog: (head?.seq ?? 0) - watermark,
    rejected: reader.stats().rejected,
    prunedThrough: pruned.seq,
  };
  const fail = (code: ErrorCode, seq: number | null, path: string, message: string): JournalVerification => ({ ok: false, problem: { code, seq, path, message }, summary });

  const verifier = new ChainVerifier();
  let expectedSeq = pruned.seq + 1;
  let lastHash = pruned.seq === 0 ? ZERO_HASH : pruned.hash;
  let from = 1;
  for (;;) {
    const rows = reader.rows(from, BATCH);
    for (const row of rows) {
      let env: unknown;
      try {
        env = JSON.parse(row.canonical);
      } catch {
        return fail('journal-corrupt', row.seq, 'env', `seq ${row.seq}: the stored envelope is not JSON`);
      }
      const first = summary.records === 0;
      const checked = verifier.add({ env, sig: row.sig });
      if (!checked.ok) return fail(checked.problem.code, row.seq, checked.problem.path, checked.problem.message);
      const v = checked.value;
      const e = v.record.env;
      // The verifier starts a chain wherever it is given one; the journal's chain starts at its retention anchor.
      if (first && e.seq !== expectedSeq) return fail('seq-gap', row.seq, 'env.seq', `env.seq: the first record should be seq ${expectedSeq}, got ${e.seq}`);
      if (first && e.prev !== lastHash) return fail('broken-chain', row.seq, 'env.prev', `env.prev: expected ${lastHash} (hash of seq ${expectedSeq - 1}), got ${e.prev}`);
      if (e.node !== reader.nodeId) return fail('journal-wrong-node', row.seq, 'env.node', `env.node: record signed by ${e.node}, the journal belongs to ${reader.nodeId}`);
      if (v.canonical !== row.canonical) return fail('non-canonical', row.seq, 'env', `seq ${row.seq}: the stored text is not the canonical form of its envelope`);
      if (v.hash !== row.hash) return fail('journal-corrupt', row.seq, 'hash', `seq ${row.seq}: stored hash ${row.hash} is not SHA-256 of the record (${v.hash})`);
      if (e.seq !== row.seq || e.kind !== row.kind || e.time !== row.time) {
        return fail('journal-corrupt', row.seq, 'env', `row ${row.seq}: its seq/kind/time columns (${row.seq}/${row.kind}/${row.time}) disagree with its envelope (${e.seq}/${e.kind}/${e.time})`);
      }
      summary.records += 1;
      summary.firstSeq ??= row.seq;
      expectedSeq = e.seq + 1;
      lastHash = v.hash;
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < BATCH) break;
    from = last.seq + 1;
  }

  const headSeq = head?.seq ?? 0;
  if (watermark > headSeq || watermark < pruned.seq) {
    return fail('journal-corrupt', null, 'state.watermark', `the acknowledged watermark ${watermark} is outside the journal (pruned through ${pruned.seq}, head ${headSeq})`);
  }
  const stray = [reader.rejections(1, 1)[0], reader.rejections(headSeq + 1, 1)[0]].find((r) => r !== undefined && (r.seq <= pruned.seq || r.seq > headSeq));
  if (stray !== undefined) return fail('journal-corrupt', stray.seq, 'rejections', `a rejection is recorded for seq ${stray.seq}, which the journal does not hold`);
  return { ok: true, summary };
}
