/** How a journal row becomes a record, and a record a line of an export. */
import type { Envelope, Kind } from '../../proofs/envelope.js';

/** The coordinator refused a record (nack): its code and reason, and when. */
export interface Rejection {
  code: string;
  reason: string;
  at: number;
}

/** A row of the records table as stored, with its rejection if any. */
export interface RecordRow {
  seq: number;
  kind: string;
  time: number;
  hash: string;
  sig: string;
  canonical: string;
  rejectCode: string | null;
  rejectReason: string | null;
  rejectAt: number | null;
}

/** A record as the journal holds it: what was signed, byte for byte, and its envelope. */
export interface JournalRecord {
  seq: number;
  kind: Kind;
  time: number;
  /** SHA-256 of canonical, lowercase hex: hash(env) of DESIGN §4. */
  hash: string;
  sig: string;
  /** canonical(env): the exact text that was signed, after the domain prefix. */
  canonical: string;
  env: Envelope;
  /** The record as one JSON Lines line (DESIGN §4), for the wire and for exports. */
  line: string;
  /** Set when the coordinator refused the record. */
  rejected: Rejection | null;
}

/** SELECT list for RecordRow over `records r LEFT JOIN rejections x`. */
export const RECORD_ROW_SELECT =
  'SELECT r.seq, r.kind, r.time, r.hash, r.sig, r.canonical, x.code AS rejectCode, x.reason AS rejectReason, x.at AS rejectAt FROM records r LEFT JOIN rejections x ON x.seq = r.seq';

/**
 * The JSON Lines form of a record (DESIGN §4), built from the stored bytes:
 * `{"env":...,"sig":...}` is canonical because "env" sorts before "sig" and
 * the stored env text is canonical, so this equals recordLine() of proofs/.
 */
export function exportLine(row: { canonical: string; sig: string }): string {
  return `{"env":${row.canonical},"sig":"${row.sig}"}`;
}

/**
 * Rows were validated when they were signed and `journal verify` re-checks
 * every one, so the hot paths (backlog, export) parse without re-validating.
 */
export function toRecord(row: RecordRow): JournalRecord {
  const env = JSON.parse(row.canonical) as Envelope;
  return {
    seq: row.seq,
    kind: env.kind,
    time: row.time,
    hash: row.hash,
    sig: row.sig,
    canonical: row.canonical,
    env,
    line: exportLine(row),
    rejected: row.rejectCode === null ? null : { code: row.rejectCode, reason: row.rejectReason ?? '', at: row.rejectAt ?? 0 },
  };
}
