/** How a journal row becomes a record, and a record a line of an export. */
import { KINDS, type Envelope, type Kind, type SignedRecord } from '../../proofs/envelope.js';

/** A row of the records table as stored. */
export interface RecordRow {
  seq: number;
  kind: string;
  time: number;
  hash: string;
  sig: string;
  canonical: string;
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
}

export function isKind(kind: string): kind is Kind {
  return (KINDS as readonly string[]).includes(kind);
}

/**
 * Rows were validated when they were signed and `journal verify` re-checks
 * every one, so the hot paths (backlog, export) parse without re-validating.
 */
export function toRecord(row: RecordRow): JournalRecord {
  const env = JSON.parse(row.canonical) as Envelope;
  return { seq: row.seq, kind: env.kind, time: row.time, hash: row.hash, sig: row.sig, canonical: row.canonical, env };
}

export function signedRecord(record: JournalRecord): SignedRecord {
  return { env: record.env, sig: record.sig };
}

/**
 * The JSON Lines form of a record (DESIGN §4), built from the stored bytes:
 * `{"env":...,"sig":...}` is canonical because "env" sorts before "sig" and
 * the stored env text is canonical, so this equals recordLine() of proofs/.
 */
export function exportLine(row: { canonical: string; sig: string }): string {
  return `{"env":${row.canonical},"sig":"${row.sig}"}`;
}
