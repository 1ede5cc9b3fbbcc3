/**
 * The journal's writer: the only code that signs attestations.
 *
 * Persist before release (DESIGN §9), as validator clients keep their
 * slashing-protection database: a record is built on the head, signed and
 * committed in its own IMMEDIATE transaction, and returned only after its
 * COMMIT. Appends are pipelined (writer.ts): the next record is built on the
 * previous one's hash and signed while that one is being made durable, and
 * the commit thread stores a record only where it continues the journal's
 * head. A crash at any point leaves either no record (and no signature ever
 * left the process) or the committed one, which the next append builds on.
 * Nothing ever releases two different envelopes for one seq.
 */
import { CapanodeError, isCapanodeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { canonicalize } from '../../proofs/canonical.js';
import { buildEnvelope, EnvelopeSchema, hashCanonical, signingMessage, type BodyOf, type Envelope, type EnvelopeInput, type Kind } from '../../proofs/envelope.js';
import { HEX64, sign, toHex, type KeyPair } from '../../proofs/keys.js';
import { acquireWriterLock, type WriterLock } from './lock.js';
import { JournalReader, type JournalCondition, type JournalHead } from './reader.js';
import { exportLine, RECORD_ROW_SELECT, toRecord, type JournalRecord, type RecordRow } from './records.js';
import { migrate } from './schema.js';
import { JournalWriter } from './writer.js';
import { limitSize, openDatabase, openFailure, writeFailure, type Db } from './sqlite.js';

export interface OpenJournalOptions {
  /** Path of journal.db (resolvePaths().journalFile). */
  file: string;
  /** The node's key: the journal is bound to its id when created and refuses any other. */
  key: KeyPair;
  /** Wall clock for envelope times, ms since the epoch. Default Date.now. */
  now?: () => number;
  log?: Logger;
  /**
   * Upper bound on the database size in bytes (SQLite max_page_count). At the
   * bound, appends fail as on a full disk. Default: no bound. Tests use it to
   * fill a journal where no small filesystem can be mounted.
   */
  maxBytes?: number;
}

export interface PruneResult {
  /** Records deleted. */
  deleted: number;
  /** The last seq removed so far (0 when nothing was ever pruned). */
  prunedThrough: number;
}

const MAX_REJECT_CODE = 64;
const MAX_REJECT_REASON = 1024;

interface CheckedEnvelope {
  env: Envelope;
  /** canonical(env): what is signed and stored. */
  canonical: string;
}

/**
 * buildEnvelope's checks with one canonical encoding instead of two: it is on
 * every append's path, and encoding is a tenth of an append's CPU. A value
 * that fails goes through buildEnvelope itself, for its error naming each field.
 */
function checkedEnvelope<K extends Kind>(input: EnvelopeInput<K> | Envelope): CheckedEnvelope {
  const candidate = { v: 1, kind: input.kind, node: input.node, seq: input.seq, prev: input.prev, time: input.time, body: input.body };
  const canonical = canonicalize(candidate, 'env');
  const parsed = EnvelopeSchema.safeParse(candidate);
  if (parsed.success) return { env: parsed.data, canonical };
  const env = buildEnvelope(input as EnvelopeInput<K>);
  return { env, canonical: canonicalize(env, 'env') };
}

function conflict(seq: number, message: string, details: Record<string, unknown>): CapanodeError {
  return new CapanodeError('journal-conflict', `seq ${seq}: ${message}`, {
    hint: 'The journal never signs two different records for one seq. Build the next record with append(), which takes the seq from the head.',
    details: { seq, ...details },
  });
}

export class Journal extends JournalReader {
  private readonly key: KeyPair;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly lock: WriterLock;
  private current: JournalCondition | null = null;
  private counts: Record<Kind, number>;
  private readonly insertStmt;
  private readonly setWatermarkStmt;
  private readonly rowAt;
  private readonly firstYoungStmt;
  private readonly rejectStmt;
  private readonly adoptStmt;
  private readonly pruneStmt;
  private readonly setPrunedStmt;
  private readonly writer: JournalWriter;
  private readonly offerTx;

  private constructor(db: Db, options: OpenJournalOptions, lock: WriterLock) {
    super(db, options.file);
    this.key = options.key;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.lock = lock;
    this.counts = super.kindCounts();
    this.insertStmt = db.prepare<[number, string, number, string, string, string]>('INSERT INTO records (seq, kind, time, hash, sig, canonical) VALUES (?, ?, ?, ?, ?, ?)');
    this.setWatermarkStmt = db.prepare<[number]>('UPDATE state SET watermark = ? WHERE id = 1');
    this.rowAt = db.prepare<[number], RecordRow>(`${RECORD_ROW_SELECT} WHERE r.seq = ?`);
    this.firstYoungStmt = db.prepare<[number, number, number], number>('SELECT seq FROM records WHERE seq > ? AND seq <= ? AND time >= ? ORDER BY seq LIMIT 1').pluck();
    this.adoptStmt = db.prepare<[number, number, string]>('UPDATE state SET watermark = ?, pruned_seq = ?, pruned_hash = ? WHERE id = 1');
    this.rejectStmt = db.prepare<[number, string, string, number]>('INSERT OR REPLACE INTO rejections (seq, code, reason, at) VALUES (?, ?, ?, ?)');
    this.pruneStmt = db.prepare<[number]>('DELETE FROM records WHERE seq <= ?');
    this.setPrunedStmt = db.prepare<[number, string]>('UPDATE state SET pruned_seq = ?, pruned_hash = ? WHERE id = 1');
    this.writer = new JournalWriter(options.file, options.maxBytes ?? null);
    this.offerTx = db.transaction(({ env, canonical }: CheckedEnvelope) => {
      const s = this.state();
      if (env.seq <= s.head_seq) {
        const stored = this.rowAt.get(env.seq);
        if (stored === undefined) throw conflict(env.seq, `it was pruned (the journal keeps seq ${s.pruned_seq + 1} onwards), so it cannot be compared`, {});
        if (stored.canonical !== canonical) throw conflict(env.seq, 'the journal already holds a different record for it', { storedHash: stored.hash });
        return toRecord(stored);
      }
      if (env.seq !== s.head_seq + 1) throw new CapanodeError('seq-gap', `seq ${env.seq}: the journal's head is ${s.head_seq}; the next record must be seq ${s.head_seq + 1}`, { details: { seq: env.seq, head: s.head_seq } });
      if (env.prev !== s.head_hash) throw new CapanodeError('broken-chain', `seq ${env.seq}: prev must be the head's hash ${s.head_hash}`, { details: { seq: env.seq, prev: env.prev } });
      return this.signAndInsert({ env, canonical });
    });
  }

  /**
   * Inside a write transaction: signs (DESIGN §4) and inserts. The signature
   * exists only in this stack frame until COMMIT.
   */
  /** The record for a checked envelope, signed. Not released until it is committed. */
  private sealed({ env, canonical }: CheckedEnvelope): JournalRecord {
    const sig = toHex(sign(signingMessage(canonical), this.key));
    const hash = hashCanonical(canonical);
    return { seq: env.seq, kind: env.kind, time: env.time, hash, sig, canonical, env, line: exportLine({ canonical, sig }), rejected: null };
  }

  /** Inside a write transaction: signs (DESIGN §4) and inserts. */
  private signAndInsert(checked: CheckedEnvelope): JournalRecord {
    const record = this.sealed(checked);
    this.insertStmt.run(record.seq, record.kind, record.time, record.hash, record.sig, record.canonical);
    return record;
  }

  /**
   * A write the disk refused (full, read-only, I/O error) becomes a typed
   * error and the journal's condition until a write succeeds; anything else
   * comes back as it was.
   */
  private refused(e: unknown): unknown {
    const failure = writeFailure(e, this.file);
    if (failure === null) return e;
    if (this.current?.code !== failure.code) {
      this.current = { code: failure.code === 'journal-io' ? 'journal-io' : 'journal-full', message: failure.message, since: this.now() };
      this.log?.error({ err: { code: failure.code, message: failure.message } }, 'journal cannot be written: signing is paused until a write succeeds');
    }
    return failure;
  }

  private written(): void {
    if (this.current === null) return;
    this.log?.warn({ pausedMs: this.now() - this.current.since }, 'journal writes succeed again: signing resumed');
    this.current = null;
  }

  /** Runs a write transaction on the main connection (see refused()). */
  private write<T>(fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (e) {
      throw this.refused(e);
    }
    this.written();
    return result;
  }

  /** The head the next record builds on: the last one in flight, else the journal's. */
  private nextBase(): JournalHead {
    const tail = this.writer.tail();
    if (tail !== null) return tail;
    const s = this.state();
    return { seq: s.head_seq, hash: s.head_hash };
  }

  /**
   * Signs the next record: seq = head + 1, prev = head's hash, time = now
   * (or options.time). Resolves only after the record is committed durably;
   * appends made without waiting are committed in the order they were made.
   * Rejects with journal-full / journal-io when the disk refuses (the record
   * was never released), schema / non-canonical for a bad body.
   */
  async append<K extends Kind>(kind: K, body: BodyOf[K], options: { time?: number } = {}): Promise<JournalRecord> {
    const time = options.time ?? this.now();
    const base = this.nextBase();
    const record = this.sealed(checkedEnvelope({ kind, node: this.key.id, seq: base.seq + 1, prev: base.hash, time, body }));
    try {
      await this.writer.commit({ seq: record.seq, prev: base.hash, kind: record.kind, time: record.time, hash: record.hash, sig: record.sig, canonical: record.canonical });
    } catch (e) {
      throw this.refused(e);
    }
    this.written();
    this.counts[record.kind] += 1;
    return record;
  }

  /**
   * Offers a complete envelope, once the appends in flight are committed.
   * The same envelope as one already held returns the stored record (no new
   * signature); a different one for a held seq is refused with
   * journal-conflict; the envelope at head + 1 linking to the head is signed
   * and committed like append().
   */
  async appendEnvelope(env: Envelope): Promise<JournalRecord> {
    const checked = checkedEnvelope(env);
    if (checked.env.node !== this.key.id) {
      throw new CapanodeError('journal-wrong-node', `envelope for node ${checked.env.node} offered to the journal of node ${this.key.id}`, { hint: 'A journal signs only for its own node.' });
    }
    while (this.writer.busy()) await this.writer.idle();
    const before = this.state().head_seq;
    const record = this.write(() => this.offerTx.immediate(checked));
    if (record.seq > before) this.counts[record.kind] += 1;
    return record;
  }

  /**
   * Records the coordinator's cumulative ack: everything <= seq is stored on
   * its side. Monotone (an older ack changes nothing); an ack beyond the head
   * is refused with journal-ack. Returns the watermark.
   */
  ack(seq: number): number {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new CapanodeError('bad-input', `ack seq must be a non-negative integer, got ${String(seq)}`);
    return this.write(() =>
      this.db
        .transaction(() => {
          const s = this.state();
          if (seq > s.head_seq) {
            throw new CapanodeError('journal-ack', `the coordinator acknowledged seq ${seq}, but the journal's head is seq ${s.head_seq}`, {
              hint: 'The coordinator holds records this journal does not: it was restored from an old backup or belongs to another install. Stop and compare before signing more.',
              details: { seq, head: s.head_seq },
            });
          }
          if (seq <= s.watermark) return s.watermark;
          this.setWatermarkStmt.run(seq);
          return seq;
        })
        .immediate(),
    );
  }

  /**
   * Marks a record the coordinator refused (nack) with its code and reason.
   * The record stays in the journal, unacknowledged: it was signed, so it is
   * never replaced. A seq the journal does not hold is refused with journal-ack.
   */
  reject(seq: number, code: string, reason: string): void {
    this.write(() =>
      this.db
        .transaction(() => {
          const s = this.state();
          if (!Number.isSafeInteger(seq) || seq <= s.pruned_seq || seq > s.head_seq) {
            throw new CapanodeError('journal-ack', `the coordinator rejected seq ${String(seq)}, which the journal does not hold (it holds ${s.pruned_seq + 1}..${s.head_seq})`, {
              hint: 'The coordinator and this journal disagree about what was sent; check `capanode journal verify` and the coordinator\'s view of this node.',
              details: { seq, head: s.head_seq },
            });
          }
          // What the coordinator says is untrusted text: bounded before it is stored.
          this.rejectStmt.run(seq, code.slice(0, MAX_REJECT_CODE), reason.slice(0, MAX_REJECT_REASON), this.now());
        })
        .immediate(),
    );
  }

  /**
   * `start --adopt-remote-head` (DESIGN §9): an empty journal continues the
   * chain the coordinator already holds, after the local journal was lost.
   * The coordinator's head becomes the journal's anchor, as if everything up
   * to it had been acknowledged and pruned; the next record is seq + 1 with
   * prev = hash. Refused when the journal holds or held anything: adopting
   * over history could sign a second record for a seq already signed.
   */
  adoptHead(seq: number, hash: string): void {
    if (!Number.isSafeInteger(seq) || seq < 1 || !HEX64.test(hash)) {
      throw new CapanodeError('bad-input', `cannot adopt head seq ${String(seq)} hash ${hash}: need a seq >= 1 and 64 lowercase hex characters`);
    }
    if (this.writer.busy()) {
      throw new CapanodeError('journal-conflict', 'records are being appended: the journal cannot adopt the coordinator\'s head', {
        hint: '--adopt-remote-head is only for an empty journal, before anything is signed.',
      });
    }
    this.write(() =>
      this.db
        .transaction(() => {
          const s = this.state();
          if (s.head_seq !== 0) {
            throw new CapanodeError('journal-conflict', `the journal already holds seq ${s.head_seq}: it cannot adopt the coordinator's head (seq ${seq})`, {
              hint: '--adopt-remote-head is only for an empty journal. Restore the journal from backup instead.',
              details: { seq, head: s.head_seq },
            });
          }
          this.adoptStmt.run(seq, seq, hash);
        })
        .immediate(),
    );
    this.log?.warn({ seq, hash }, 'journal adopted the coordinator\'s head: the chain continues from it');
  }

  /**
   * Retention: deletes acknowledged records older than maxAgeMs, as a prefix
   * of the chain (so what is kept stays contiguous), never an unacknowledged
   * record and never the head. The hash of the last one removed is kept so
   * the chain can still be verified from the first record left.
   */
  prune(maxAgeMs: number, now: number = this.now()): PruneResult {
    const result = this.write(() =>
      this.db
        .transaction(() => {
          const s = this.state();
          const limit = Math.min(s.watermark, s.head_seq - 1);
          if (limit <= s.pruned_seq) return { deleted: 0, prunedThrough: s.pruned_seq };
          const young = this.firstYoungStmt.get(s.pruned_seq, limit, now - maxAgeMs);
          const through = young === undefined ? limit : young - 1;
          if (through <= s.pruned_seq) return { deleted: 0, prunedThrough: s.pruned_seq };
          const hash = this.hashAt(through);
          if (hash === null) throw new CapanodeError('journal-corrupt', `journal ${this.file} has no record at seq ${through}`, { hint: 'Run `capanode journal verify`.' });
          const deleted = this.pruneStmt.run(through).changes;
          this.setPrunedStmt.run(through, hash);
          return { deleted, prunedThrough: through };
        })
        .immediate(),
    );
    if (result.deleted > 0) this.counts = super.kindCounts();
    return result;
  }

  protected override condition(): JournalCondition | null {
    return this.current;
  }

  protected override kindCounts(): Record<Kind, number> {
    // The writer keeps the counts in memory: a GROUP BY over a large journal on every status call would not be cheap.
    return { ...this.counts };
  }

  /** Commits what is in flight, then closes both connections and releases the writer lock. */
  override close(): void {
    try {
      this.writer.close();
    } finally {
      try {
        super.close();
      } finally {
        this.lock.release();
      }
    }
  }

  /**
   * Opens the journal for writing: takes the writer lock, checks integrity,
   * asserts WAL + synchronous=FULL, migrates the schema and binds the journal
   * to the key's node id (or refuses a journal of another node).
   */
  static openWriter(options: OpenJournalOptions): Journal {
    const lock = acquireWriterLock(options.file);
    let db: Db | undefined;
    try {
      db = openDatabase(options.file, { readonly: false, check: true });
      if (options.maxBytes !== undefined) limitSize(db, options.maxBytes);
      const opened = db;
      db.transaction(() => {
        migrate(opened, options.file);
        bindNode(opened, options.file, options.key.id, (options.now ?? Date.now)());
      }).exclusive();
      return new Journal(db, options, lock);
    } catch (e) {
      db?.close();
      lock.release();
      if (isCapanodeError(e)) throw e;
      throw openFailure(e, options.file) ?? e;
    }
  }
}

function bindNode(db: Db, file: string, node: string, now: number): void {
  const bound = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'node'").pluck().get();
  if (bound === undefined) {
    const records = db.prepare<[], number>('SELECT count(*) FROM records').pluck().get() ?? 0;
    if (records > 0) throw new CapanodeError('journal-corrupt', `journal ${file} holds records but no node id`, { hint: 'Keep the file as it is and restore journal.db from a backup.' });
    const insert = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?)');
    insert.run('node', node);
    insert.run('createdAt', String(now));
    return;
  }
  if (bound !== node) {
    throw new CapanodeError('journal-wrong-node', `journal ${file} belongs to node ${bound}, but the key in use is node ${node}`, {
      hint: 'A journal is never shared between identities. Point --data-dir at this key\'s own data dir, or restore the node.key that goes with this journal.',
      details: { file, journalNode: bound, keyNode: node },
    });
  }
}

/** Opens the journal for writing (see Journal.openWriter). */
export function openJournal(options: OpenJournalOptions): Journal {
  return Journal.openWriter(options);
}
