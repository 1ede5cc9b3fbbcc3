/**
 * Reading the journal: the queries the daemon's link, `status` and the
 * `journal` commands need. A JournalReader opened on its own is read-only and
 * works while the daemon writes (WAL readers see the last committed state).
 */
import { CapanodeError } from '../../common/errors.js';
import { HEX64 } from '../../proofs/keys.js';
import { KINDS, type Kind } from '../../proofs/envelope.js';
import { RECORD_ROW_SELECT, toRecord, type JournalRecord, type RecordRow, type Rejection } from './records.js';
import { assertCurrentSchema } from './schema.js';
import { openDatabase, openFailure, type Db } from './sqlite.js';
import { STATE_SELECT, type StateRow } from './writer-protocol.js';

export interface JournalHead {
  seq: number;
  hash: string;
}

/** Why the journal cannot be written right now (disk full, read-only, I/O error); null when it can. */
export interface JournalCondition {
  code: 'journal-full' | 'journal-io';
  message: string;
  /** When the condition was first seen (ms since the epoch). */
  since: number;
}

export interface JournalStats {
  nodeId: string;
  headSeq: number | null;
  headHash: string | null;
  /** Lowest seq still in the journal (retention removes acknowledged records before it). */
  firstSeq: number | null;
  /** Records in the journal now. */
  records: number;
  /** Highest seq the coordinator acknowledged; 0 before the first ack. */
  watermark: number;
  /** Records signed but not yet acknowledged. */
  backlog: number;
  /** Records the coordinator refused (still in the journal). */
  rejected: number;
  recordsByKind: Record<Kind, number>;
  /** Why signing is paused, for status; always null from a read-only reader. */
  condition: JournalCondition | null;
}

export function emptyKindCounts(): Record<Kind, number> {
  return Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
}

export class JournalReader {
  readonly file: string;
  /** The node id the journal is bound to (set when it was created). */
  readonly nodeId: string;
  protected readonly db: Db;
  private readonly stateStmt;
  private readonly rowAtStmt;
  private readonly rowsFromStmt;
  private readonly firstSeqStmt;
  private readonly kindCountsStmt;
  private readonly hashAtStmt;
  private readonly rejectedCountStmt;
  private readonly rejectionsStmt;

  protected constructor(db: Db, file: string) {
    this.db = db;
    this.file = file;
    const node = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'node'").pluck().get();
    if (node === undefined || !HEX64.test(node)) {
      throw new CapanodeError('journal-corrupt', `journal ${file} has no valid node id in its meta table`, {
        hint: 'The file was altered outside capanode. Keep it as it is and restore journal.db from a backup.',
        details: { file },
      });
    }
    this.nodeId = node;
    this.stateStmt = db.prepare<[], StateRow>(STATE_SELECT);
    this.rowAtStmt = db.prepare<[number], RecordRow>(`${RECORD_ROW_SELECT} WHERE r.seq = ?`);
    this.rowsFromStmt = db.prepare<[number, number], RecordRow>(`${RECORD_ROW_SELECT} WHERE r.seq >= ? ORDER BY r.seq LIMIT ?`);
    this.hashAtStmt = db.prepare<[number], string>('SELECT hash FROM records WHERE seq = ?').pluck();
    this.rejectedCountStmt = db.prepare<[], number>('SELECT count(*) FROM rejections').pluck();
    this.rejectionsStmt = db.prepare<[number, number], Rejection & { seq: number }>('SELECT seq, code, reason, at FROM rejections WHERE seq >= ? ORDER BY seq LIMIT ?');
    this.firstSeqStmt = db.prepare<[], number | null>('SELECT min(seq) FROM records').pluck();
    this.kindCountsStmt = db.prepare<[], { kind: string; n: number }>('SELECT kind, count(*) AS n FROM records GROUP BY kind');
  }

  protected state(): StateRow {
    const row = this.stateStmt.get();
    if (row === undefined) throw new CapanodeError('journal-corrupt', `journal ${this.file} has no state row`, { hint: 'Keep the file as it is and restore journal.db from a backup.' });
    return row;
  }

  /** The last record signed (or the adopted coordinator head while none is held); null before the first. */
  head(): JournalHead | null {
    const s = this.state();
    return s.head_seq === 0 ? null : { seq: s.head_seq, hash: s.head_hash };
  }

  /** Highest seq the coordinator acknowledged (cumulative); 0 before the first ack. */
  watermark(): number {
    return this.state().watermark;
  }

  /** The last record retention removed ({seq: 0, hash: zeros} when none): the first kept record links to it. */
  prunedThrough(): JournalHead {
    const s = this.state();
    return { seq: s.pruned_seq, hash: s.pruned_hash };
  }

  /**
   * The hash of the record at seq; for the last pruned seq, the anchor hash
   * the journal keeps. Null for a seq never signed or pruned before the anchor.
   */
  hashAt(seq: number): string | null {
    const s = this.state();
    if (seq === s.pruned_seq && seq > 0) return s.pruned_hash;
    return this.hashAtStmt.get(seq) ?? null;
  }

  /** Records the coordinator refused, with seq >= fromSeq, in order. */
  rejections(fromSeq = 1, limit = 1000): (Rejection & { seq: number })[] {
    return this.rejectionsStmt.all(fromSeq, limit);
  }

  firstSeq(): number | null {
    return this.firstSeqStmt.get() ?? null;
  }

  recordAt(seq: number): JournalRecord | null {
    const row = this.rowAtStmt.get(seq);
    return row === undefined ? null : toRecord(row);
  }

  /** Stored rows with seq >= fromSeq, in order, at most limit: for export and verify. */
  rows(fromSeq: number, limit: number): RecordRow[] {
    return this.rowsFromStmt.all(fromSeq, limit);
  }

  /** Records with seq >= fromSeq, in order, at most limit. */
  records(fromSeq: number, limit: number): JournalRecord[] {
    return this.rows(fromSeq, limit).map(toRecord);
  }

  /**
   * Unacknowledged records after afterSeq, in order, at most limit. Call it
   * again with the last seq returned to stream the whole backlog in batches.
   */
  backlog(afterSeq: number, limit: number): JournalRecord[] {
    const from = Math.max(afterSeq, this.state().watermark) + 1;
    return this.records(from, limit);
  }

  protected kindCounts(): Record<Kind, number> {
    const counts = emptyKindCounts();
    for (const { kind, n } of this.kindCountsStmt.all()) if (kind in counts) counts[kind as Kind] = n;
    return counts;
  }

  protected condition(): JournalCondition | null {
    return null;
  }

  stats(): JournalStats {
    const s = this.state();
    const recordsByKind = this.kindCounts();
    return {
      nodeId: this.nodeId,
      headSeq: s.head_seq === 0 ? null : s.head_seq,
      headHash: s.head_seq === 0 ? null : s.head_hash,
      firstSeq: s.head_seq === s.pruned_seq ? null : s.pruned_seq + 1,
      records: Object.values(recordsByKind).reduce((a, b) => a + b, 0),
      watermark: s.watermark,
      backlog: s.head_seq - s.watermark,
      rejected: this.rejectedCountStmt.get() ?? 0,
      recordsByKind,
      condition: this.condition(),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Opens a journal read-only. `check` runs PRAGMA quick_check first (reads the whole file). */
  static open(file: string, options: { check?: boolean } = {}): JournalReader {
    const db = openDatabase(file, { readonly: true, check: options.check ?? false });
    try {
      assertCurrentSchema(db, file);
      return new JournalReader(db, file);
    } catch (e) {
      db.close();
      throw openFailure(e, file) ?? e;
    }
  }
}
