/**
 * What the main thread and the journal's writer thread (writer-thread.ts)
 * say to each other. Kept apart, with type imports only, so the thread loads
 * nothing it does not use: every module it imports costs memory for as long
 * as the daemon runs.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Kind } from '../../proofs/envelope.js';

export interface WriterInit {
  file: string;
  maxBytes: number | null;
  /** Int32 slots: POSTED, the requests the main thread has posted (the thread sleeps on it); CLOSED, set once the thread's connection is closed (close() waits on it). */
  control: SharedArrayBuffer;
  requests: MessagePort;
  /** Where the thread answers: close() reads the answers still queued there synchronously. */
  replies: MessagePort;
}

export const POSTED = 0;
export const CLOSED = 1;

export interface CommitRequest {
  seq: number;
  prev: string;
  kind: Kind;
  time: number;
  hash: string;
  sig: string;
  canonical: string;
}

export type AppendRequest = { id: number; gen: number } & CommitRequest;

export type WriterRequest = ({ t: 'append' } & AppendRequest) | { t: 'close' };

/** cancelled: not tried, because a record it was built on failed. */
export type CommitOutcome = { t: 'outcome'; id: number; ok: true } | { t: 'outcome'; id: number; ok: false; cancelled: boolean; sqlite: string | null; message: string };

export type WriterReply = CommitOutcome | { t: 'fatal'; sqlite: string | null; message: string };

/**
 * The head is the last record (retention never removes it), or the anchor while no record is held:
 * seq 0 and zeros for a new journal, the coordinator's head after --adopt-remote-head.
 */
export const STATE_SELECT = `SELECT coalesce(h.seq, s.pruned_seq) AS head_seq, coalesce(h.hash, s.pruned_hash) AS head_hash, s.watermark, s.pruned_seq, s.pruned_hash
  FROM state s LEFT JOIN (SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1) h WHERE s.id = 1`;

export interface StateRow {
  head_seq: number;
  head_hash: string;
  watermark: number;
  pruned_seq: number;
  pruned_hash: string;
}
