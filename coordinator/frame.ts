/**
 * The CPU-heavy, stateless half of ingest: one frame's text to a typed
 * analysis. JSON, message schema, and for an `att` frame every record's
 * canonical form, schema and node:crypto signature. Pure, so it runs on the
 * event loop or in a worker thread (verify-pool.ts) with the same result;
 * the ordering checks against the stored head stay with the session.
 */
import { checkRecord, type RecordErrorCode } from '../proofs/envelope.js';
import { decodeFrame, MAX_ATT_RECORDS, parseAgentMessage, type AgentMessage, type Att } from '../proofs/messages.js';

/** A record whose signature verified, flattened to what ordering and storage need. */
export interface CheckedRecord {
  node: string;
  seq: number;
  prev: string;
  time: number;
  kind: string;
  hash: string;
  canonical: string;
  sig: string;
}

export type ItemResult = { ok: true; record: CheckedRecord } | { ok: false; code: RecordErrorCode; seq: number | null; message: string };

export type FrameAnalysis =
  | { kind: 'bad'; message: string }
  /** An att frame over MAX_ATT_RECORDS: the connection is closed with 4009. */
  | { kind: 'too-many-records'; count: number }
  | { kind: 'att'; items: ItemResult[] }
  | { kind: 'message'; message: Exclude<AgentMessage, Att> };

function seqOf(raw: unknown): number | null {
  const env = typeof raw === 'object' && raw !== null ? (raw as { env?: unknown }).env : undefined;
  const seq = typeof env === 'object' && env !== null ? (env as { seq?: unknown }).seq : undefined;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1 ? seq : null;
}

/** Checks one untrusted item as a record; never throws, even for input nested deeper than the stack. */
export function checkItem(raw: unknown): ItemResult {
  let checked;
  try {
    checked = checkRecord(raw);
  } catch (e) {
    return { ok: false, code: 'schema', seq: seqOf(raw), message: `record cannot be read: ${e instanceof RangeError ? 'nested too deeply' : String(e).slice(0, 120)}` };
  }
  if (!checked.ok) return { ok: false, code: checked.problem.code, seq: seqOf(raw), message: checked.problem.message.slice(0, 400) };
  const { record, canonical, hash } = checked.value;
  const env = record.env;
  return { ok: true, record: { node: env.node, seq: env.seq, prev: env.prev, time: env.time, kind: env.kind, hash, canonical, sig: record.sig } };
}

const decoder = new TextDecoder();

/** analyseFrame of a frame's UTF-8 bytes (ws has already checked they are valid UTF-8). */
export function analyseFrameBytes(frame: Uint8Array): FrameAnalysis {
  return analyseFrame(decoder.decode(frame));
}

export function analyseFrame(text: string): FrameAnalysis {
  const decoded = decodeFrame(text);
  if (!decoded.ok) return { kind: 'bad', message: decoded.problem.message };
  const raw = decoded.value;
  if (typeof raw === 'object' && raw !== null && (raw as { t?: unknown }).t === 'att') {
    const items = (raw as { items?: unknown }).items;
    if (Array.isArray(items) && items.length > MAX_ATT_RECORDS) return { kind: 'too-many-records', count: items.length };
  }
  const parsed = parseAgentMessage(raw);
  if (!parsed.ok) return { kind: 'bad', message: parsed.problem.message };
  const message = parsed.value;
  if (message.t !== 'att') return { kind: 'message', message };
  return { kind: 'att', items: message.items.map(checkItem) };
}
