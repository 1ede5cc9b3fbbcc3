/**
 * The ordered half of ingest, for one node: checked records (frame.ts) are
 * held against the node's stored head, the new ones committed in one
 * transaction, and only then acknowledged.
 *
 * Per frame, in order, until the first record that cannot be taken:
 * - another node's record: `wrong-node`;
 * - stamped more than 5 minutes in our future: `clock-skew`;
 * - a seq the store (or this frame) already holds: the same hash is a
 *   duplicate and is acknowledged again; a different hash is equivocation:
 *   both signed records are kept as evidence and the node is banned;
 * - seq = head + 1 with prev = hash(head): taken;
 * - anything after that is a `seq-gap` (the nack says which seq to resend from),
 *   a wrong prev is `broken-chain`.
 * Records after the first refused one are neither stored nor answered: the
 * agent resends from `expected`.
 */
import { ZERO_HASH } from '../proofs/envelope.js';
import { MAX_FUTURE_SKEW_MS, type NackCode } from '../proofs/messages.js';
import type { Committer } from './committer.js';
import type { CheckedRecord, ItemResult } from './frame.js';
import type { EquivocationEvidence, RecordRow, Store } from './store/types.js';

export interface IngestOutcome {
  /** Cumulative ack to send (the head after the commit); null when nothing was taken. */
  ack: number | null;
  nack: { seq: number | null; code: NackCode; message: string } | null;
  /** Equivocation was proven and stored: the node is banned, close the connection. */
  equivocation: boolean;
  /** Records newly stored by this frame. */
  stored: number;
}

export interface Head {
  seq: number;
  hash: string | null;
}

export class NodeIngest {
  private head: Head;
  /** Highest (time - receivedAt) seen this session: a lower bound on the node's clock offset. */
  private skewMs: number | null = null;

  constructor(
    readonly node: string,
    head: Head,
    private readonly store: Store,
    private readonly committer: Committer,
  ) {
    this.head = head;
  }

  get headSeq(): number {
    return this.head.seq;
  }

  get expected(): number {
    return this.head.seq + 1;
  }

  async ingest(items: readonly ItemResult[], receivedAt: number): Promise<IngestOutcome> {
    const base = this.head;
    // Seqs at or below the stored head are compared with what is stored, in one query.
    let lowest = Infinity;
    let highest = 0;
    for (const item of items) {
      if (item.ok && item.record.node === this.node && item.record.seq <= base.seq) {
        lowest = Math.min(lowest, item.record.seq);
        highest = Math.max(highest, item.record.seq);
      }
    }
    const stored = highest > 0 ? await this.store.storedHashes(this.node, lowest, highest) : new Map<number, string>();

    const rows: RecordRow[] = [];
    let seq = base.seq;
    let hash = base.hash;
    let duplicates = false;
    let nack: IngestOutcome['nack'] = null;
    let evidence: EquivocationEvidence | null = null;
    let frameSkew: number | null = null;

    for (const item of items) {
      if (!item.ok) {
        nack = { seq: item.seq, code: item.code, message: item.message };
        break;
      }
      const r = item.record;
      if (r.node !== this.node) {
        nack = { seq: r.seq, code: 'wrong-node', message: `env.node: record signed by ${r.node}, but this connection is ${this.node}` };
        break;
      }
      const skew = r.time - receivedAt;
      frameSkew = frameSkew === null ? skew : Math.max(frameSkew, skew);
      if (skew > MAX_FUTURE_SKEW_MS) {
        nack = { seq: r.seq, code: 'clock-skew', message: `env.time: ${r.time} is ${Math.round(skew / 1000)} s ahead of the coordinator's clock (limit ${MAX_FUTURE_SKEW_MS / 1000} s); fix the node's clock (NTP)` };
        break;
      }
      if (r.seq <= seq) {
        const inFrame = r.seq > base.seq ? rows.find((x) => x.seq === r.seq) : undefined;
        const earlierHash = r.seq > base.seq ? inFrame?.hash : stored.get(r.seq);
        if (earlierHash === undefined) {
          // Below the first record this store holds for the node: nothing to compare it with.
          nack = { seq: r.seq, code: 'seq-gap', message: `env.seq: ${r.seq} is not held here and cannot be compared; send from ${seq + 1}` };
          break;
        }
        if (earlierHash === r.hash) {
          duplicates = true;
          continue;
        }
        const first = inFrame ?? (await this.store.getRecord(this.node, r.seq));
        if (first === null) {
          nack = { seq: r.seq, code: 'seq-gap', message: `env.seq: ${r.seq} could not be read back for comparison; send from ${seq + 1}` };
          break;
        }
        evidence = {
          node: this.node,
          seq: r.seq,
          first: { hash: first.hash, canonical: first.canonical, sig: first.sig },
          second: { hash: r.hash, canonical: r.canonical, sig: r.sig },
          detectedAt: receivedAt,
        };
        nack = { seq: r.seq, code: 'equivocation', message: `two different records signed for seq ${r.seq} (hashes ${first.hash} and ${r.hash}); the evidence is kept and this node is banned` };
        break;
      }
      if (r.seq !== seq + 1) {
        nack = { seq: r.seq, code: 'seq-gap', message: `env.seq: expected ${seq + 1}, got ${r.seq}; resend from ${seq + 1}` };
        break;
      }
      const wantPrev = seq === 0 ? ZERO_HASH : hash;
      if (r.prev !== wantPrev) {
        nack = {
          seq: r.seq,
          code: 'broken-chain',
          message: seq === 0 && r.seq === 1 ? 'env.prev: seq 1 must have prev = 64 zeros' : `env.prev: expected ${wantPrev ?? '(unknown)'} (hash of seq ${seq}), got ${r.prev}`,
        };
        break;
      }
      rows.push(toRow(r, receivedAt));
      seq = r.seq;
      hash = r.hash;
    }

    if (frameSkew !== null) this.skewMs = this.skewMs === null ? frameSkew : Math.max(this.skewMs, frameSkew);
    // Duplicates alone change nothing: they are acknowledged without a write. A clock far ahead is written so operators see it.
    if (rows.length > 0 || evidence !== null || nack?.code === 'clock-skew') {
      try {
        await this.committer.commit({ node: this.node, baseSeq: base.seq, records: rows, lastSeen: receivedAt, skewMs: this.skewMs, equivocation: evidence });
      } catch (e) {
        return {
          ack: null,
          nack: { seq: rows[0]?.seq ?? evidence?.seq ?? null, code: 'store-unavailable', message: `not stored, resend later: ${(e as Error).message.slice(0, 200)}` },
          equivocation: false,
          stored: 0,
        };
      }
      this.head = { seq, hash };
    }
    const ack = (rows.length > 0 || duplicates) && this.head.seq > 0 ? this.head.seq : null;
    return { ack, nack, equivocation: evidence !== null, stored: rows.length };
  }
}

function toRow(r: CheckedRecord, receivedAt: number): RecordRow {
  return { node: r.node, seq: r.seq, hash: r.hash, kind: r.kind, time: r.time, canonical: r.canonical, sig: r.sig, receivedAt };
}
