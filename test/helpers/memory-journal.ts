import type { LinkJournal } from '../../agent/link/index.js';
import { recordLine, type VerifiedRecord } from '../../proofs/envelope.js';

/** An in-memory LinkJournal over a prepared chain: enough to test the link alone. */
export class MemoryJournal implements LinkJournal {
  readonly acks: number[] = [];
  readonly rejected: { seq: number; code: string; reason: string }[] = [];
  private mark = 0;
  /** Set by adoptHead: the coordinator's head this journal continues from. */
  adopted: { seq: number; hash: string } | null = null;

  constructor(
    readonly nodeId: string,
    readonly records: VerifiedRecord[],
  ) {}

  head(): { seq: number; hash: string } | null {
    const last = this.records[this.records.length - 1];
    return last === undefined ? this.adopted : { seq: last.record.env.seq, hash: last.hash };
  }
  adoptHead(seq: number, hash: string): void {
    if (this.records.length > 0 || this.adopted !== null) throw new Error('adoptHead on a journal that holds records');
    this.adopted = { seq, hash };
    this.mark = seq;
  }
  hashAt(seq: number): string | null {
    return this.records.find((r) => r.record.env.seq === seq)?.hash ?? null;
  }
  watermark(): number {
    return this.mark;
  }
  backlog(after: number, limit: number): { seq: number; line: string }[] {
    return this.records
      .filter((r) => r.record.env.seq > after)
      .slice(0, limit)
      .map((r) => ({ seq: r.record.env.seq, line: recordLine(r.record) }));
  }
  ack(seq: number): void {
    const head = this.head();
    if (head === null || seq > head.seq || seq < this.mark) throw new Error(`bad ack ${seq} (head ${head?.seq ?? 0}, watermark ${this.mark})`);
    this.mark = seq;
    this.acks.push(seq);
  }
  reject(seq: number, code: string, reason: string): void {
    this.rejected.push({ seq, code, reason });
  }
}
