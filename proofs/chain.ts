/**
 * Verifies sequences of records from any number of nodes (an export, a
 * backfill, a journal): signatures, one chain per node, seq contiguous from
 * the first record given for that node, prev links. The first bad record is
 * reported with a stable code; records are checked one at a time so a
 * multi-gigabyte export streams through in constant memory per record.
 */
import type { ErrorCode } from '../common/errors.js';
import { checkRecord, ZERO_HASH, type VerifiedRecord } from './envelope.js';

export type ChainErrorCode = Extract<ErrorCode, 'bad-signature' | 'broken-chain' | 'seq-gap' | 'non-canonical' | 'schema' | 'duplicate-seq' | 'equivocation'>;

export interface ChainProblem {
  code: ChainErrorCode;
  /** Position of the record in the input, 1-based (the line number of an export). */
  index: number;
  node: string | null;
  seq: number | null;
  /** Path to the offending field, '' when the record as a whole is at fault. */
  path: string;
  message: string;
}

export interface NodeChainSummary {
  node: string;
  firstSeq: number;
  headSeq: number;
  headHash: string;
  records: number;
}

export interface ChainSummary {
  records: number;
  nodes: NodeChainSummary[];
}

interface NodeState {
  firstSeq: number;
  headSeq: number;
  headHash: string;
  records: number;
  /** SHA-256 of every record seen, indexed by seq - firstSeq: tells a duplicate from an equivocation. */
  hashes: Buffer;
}

function nodeOf(raw: unknown): { node: string | null; seq: number | null } {
  const env = typeof raw === 'object' && raw !== null ? (raw as { env?: unknown }).env : undefined;
  if (typeof env !== 'object' || env === null) return { node: null, seq: null };
  const { node, seq } = env as { node?: unknown; seq?: unknown };
  return { node: typeof node === 'string' ? node : null, seq: typeof seq === 'number' ? seq : null };
}

export class ChainVerifier {
  private readonly nodes = new Map<string, NodeState>();
  private count = 0;

  /**
   * Checks the next record (an untrusted, already JSON-parsed value). Returns
   * the verified record, or the problem; a bad record does not advance the chain.
   */
  add(raw: unknown): { ok: true; value: VerifiedRecord } | { ok: false; problem: ChainProblem } {
    this.count += 1;
    const index = this.count;
    const checked = checkRecord(raw);
    if (!checked.ok) {
      const { node, seq } = nodeOf(raw);
      return { ok: false, problem: { ...checked.problem, index, node, seq } };
    }
    const v = checked.value;
    const { node, seq, prev } = v.record.env;
    const fail = (code: ChainErrorCode, path: string, message: string) => ({ ok: false as const, problem: { code, index, node, seq, path, message } });
    const state = this.nodes.get(node);
    if (state === undefined) {
      if (seq === 1 && prev !== ZERO_HASH) return fail('broken-chain', 'env.prev', `env.prev: seq 1 must have prev = 64 zeros, got ${prev}`);
      const hashes = Buffer.alloc(32 * 64);
      hashes.write(v.hash, 0, 'hex');
      this.nodes.set(node, { firstSeq: seq, headSeq: seq, headHash: v.hash, records: 1, hashes });
      return { ok: true, value: v };
    }
    if (seq <= state.headSeq) {
      if (seq < state.firstSeq) return fail('seq-gap', 'env.seq', `env.seq: ${seq} is before this node's first record (seq ${state.firstSeq})`);
      const off = (seq - state.firstSeq) * 32;
      const earlier = state.hashes.subarray(off, off + 32).toString('hex');
      if (earlier === v.hash) return fail('duplicate-seq', 'env.seq', `env.seq: record ${seq} appears twice`);
      return fail('equivocation', 'env', `two different records signed for seq ${seq} (hashes ${earlier} and ${v.hash})`);
    }
    if (seq !== state.headSeq + 1) return fail('seq-gap', 'env.seq', `env.seq: expected ${state.headSeq + 1}, got ${seq} (${seq - state.headSeq - 1} missing)`);
    if (prev !== state.headHash) return fail('broken-chain', 'env.prev', `env.prev: expected ${state.headHash} (hash of seq ${state.headSeq}), got ${prev}`);
    const off = (seq - state.firstSeq) * 32;
    if (off + 32 > state.hashes.length) {
      const grown = Buffer.alloc(state.hashes.length * 2);
      state.hashes.copy(grown);
      state.hashes = grown;
    }
    state.hashes.write(v.hash, off, 'hex');
    state.headSeq = seq;
    state.headHash = v.hash;
    state.records += 1;
    return { ok: true, value: v };
  }

  summary(): ChainSummary {
    const nodes = [...this.nodes.entries()]
      .map(([node, s]) => ({ node, firstSeq: s.firstSeq, headSeq: s.headSeq, headHash: s.headHash, records: s.records }))
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    return { records: nodes.reduce((n, s) => n + s.records, 0), nodes };
  }
}

/** Verifies a whole sequence; stops at the first problem. */
export function verifyChain(records: Iterable<unknown>): { ok: true; summary: ChainSummary } | { ok: false; problem: ChainProblem; summary: ChainSummary } {
  const verifier = new ChainVerifier();
  for (const raw of records) {
    const r = verifier.add(raw);
    if (!r.ok) return { ok: false, problem: r.problem, summary: verifier.summary() };
  }
  return { ok: true, summary: verifier.summary() };
}
