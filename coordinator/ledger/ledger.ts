/**
 * The coordinator's money desk for connected nodes: their `account` (what
 * the ledger holds for them, signed) and the decision on each claim record
 * they journal. A decision is made once per claim record, stored with the
 * signed message it produced, and that same message is sent again for every
 * re-delivery of the record: delivery is at least once, payment exactly once.
 */
import { canonicalize } from '../../proofs/canonical.js';
import { ClaimBodySchema } from '../../proofs/envelope.js';
import type { KeyPair } from '../../proofs/keys.js';
import { MAX_ACCOUNT_PENALTIES, signCoordinatorMessage, type Account, type AccountPenalty, type ClaimRefused, type Receipt } from '../../proofs/messages.js';
import type { Logger } from '../../common/log.js';
import type { Clock } from '../clock.js';
import type { ClaimRow } from '../store/ledger-types.js';
import type { RecordRow, Store } from '../store/types.js';
import { claimableRange, nodeBalances, type Balances } from './balances.js';
import { judgeClaim } from './judge.js';
import type { VestingTermsBook } from './terms.js';

export type ClaimMessage = Receipt | ClaimRefused;

export interface ClaimDecision {
  message: ClaimMessage;
  /** False when the decision was made before (a re-delivery). */
  fresh: boolean;
}

export interface LedgerDeps {
  store: Store;
  key: KeyPair;
  clock: Clock;
  terms: VestingTermsBook;
  log: Logger;
}

function penaltiesOf(entries: readonly { epoch: number; penalties: readonly { kind: string; count: number; slashed: number; forfeited: number; note: string }[] }[]): AccountPenalty[] {
  const lines = entries.flatMap((e) => e.penalties.map((p) => ({ epoch: e.epoch, kind: p.kind, count: p.count, slashed: p.slashed, forfeited: p.forfeited, note: p.note.slice(0, 512) })));
  return lines.slice(-MAX_ACCOUNT_PENALTIES);
}

export class Ledger {
  constructor(private readonly deps: LedgerDeps) {}

  /** One node's balances at `atMs` (default: now). */
  async balances(node: string, atMs = this.deps.clock.now()): Promise<Balances> {
    const { store, terms } = this.deps;
    const [entries, claims] = await Promise.all([store.ledgerEntries({ node }), store.listClaims(node)]);
    return nodeBalances(entries, claims, atMs, (e) => terms.of(e));
  }

  /** The node's signed account as of now. */
  async account(node: string): Promise<Account> {
    const { store, key, clock, terms } = this.deps;
    const now = clock.now();
    const [entries, claims, last, credits] = await Promise.all([store.ledgerEntries({ node }), store.listClaims(node), store.lastClosedEpoch(), store.stakeCredits(now + 1, node)]);
    const b = nodeBalances(entries, claims, now, (e) => terms.of(e));
    const latest = entries[entries.length - 1];
    const bonded = credits.reduce((s, c) => s + c.amount, 0) - entries.reduce((s, e) => s + e.slashed, 0);
    return signCoordinatorMessage(
      {
        t: 'account' as const,
        epoch: last?.index ?? null,
        claimEpochs: claimableRange(b),
        estimate: latest !== undefined && latest.epoch === last?.index ? latest.earned : null,
        earned: b.earned,
        vested: b.vested,
        unvested: b.unvested,
        claimed: b.claimed,
        claimable: b.claimable,
        reputation: latest?.reputationAfter ?? null,
        stake: Math.max(0, bonded),
        penalties: penaltiesOf(entries),
        time: now,
      },
      key,
    );
  }

  /**
   * Decides the claim record (node, seq) once it is stored; `hash` is the
   * record as received, which must be the one stored. The stored decision
   * for a re-delivery; null when there is no such claim record.
   */
  async decideClaim(node: string, seq: number, hash: string): Promise<ClaimDecision | null> {
    const { store } = this.deps;
    const existing = await store.getClaim(node, seq);
    if (existing !== null) return existing.hash === hash ? { message: JSON.parse(existing.message) as ClaimMessage, fresh: false } : null;
    const record = await store.getRecord(node, seq);
    if (record === null || record.hash !== hash || record.kind !== 'claim') return null;
    return this.decide(record);
  }

  /** The decision on the node's latest decided claim: sent again after welcome, so a receipt lost to a disconnect still arrives. */
  async lastClaimMessage(node: string): Promise<ClaimMessage | null> {
    const claims = await this.deps.store.listClaims(node);
    const last = claims[claims.length - 1];
    return last === undefined ? null : (JSON.parse(last.message) as ClaimMessage);
  }

  /** Decides claim records left undecided (a stop or a store failure between the commit and the decision), in order; one node's when given. Returns how many. */
  async decideUndecided(node?: string): Promise<number> {
    const pending = (await this.deps.store.undecidedClaims()).filter((r) => node === undefined || r.node === node);
    for (const r of pending) await this.decide(r);
    return pending.length;
  }

  private async decide(record: RecordRow): Promise<ClaimDecision | null> {
    const { store, key, clock, terms, log } = this.deps;
    const env = JSON.parse(record.canonical) as { body?: unknown };
    const body = ClaimBodySchema.safeParse(env.body);
    if (!body.success) {
      log.error({ node: record.node, seq: record.seq }, 'a stored claim record does not parse as a claim; left undecided');
      return null;
    }
    const claim = body.data;
    // The node's clock is at most 5 minutes ahead (ingest refuses more); never later than the coordinator received it.
    const at = Math.min(record.time, record.receivedAt);
    const [entries, claims, last, info] = await Promise.all([store.ledgerEntries({ node: record.node }), store.listClaims(record.node), store.lastClosedEpoch(), store.getNode(record.node)]);
    const balances = nodeBalances(entries, claims, at, (e) => terms.of(e));
    const judgement = judgeClaim(claim, { balances, lastClosed: last?.index ?? null, banned: info?.banned === true, banReason: info?.banReason ?? null });
    const message: ClaimMessage = judgement.ok
      ? signCoordinatorMessage({ t: 'receipt' as const, claimSeq: record.seq, amount: claim.amount, epochs: claim.epochs }, key)
      : signCoordinatorMessage(
          {
            t: 'claim-refused' as const,
            claimSeq: record.seq,
            code: judgement.code,
            message: judgement.message.slice(0, 512),
            requested: claim.amount,
            vested: judgement.amounts.vested,
            unvested: judgement.amounts.unvested,
            claimed: judgement.amounts.claimed,
            claimable: judgement.amounts.claimable,
          },
          key,
        );
    const row: ClaimRow = {
      node: record.node,
      seq: record.seq,
      hash: record.hash,
      requested: claim.amount,
      to: claim.to,
      epochs: claim.epochs,
      paid: judgement.ok ? claim.amount : 0,
      code: judgement.ok ? null : judgement.code,
      decidedAt: clock.now(),
      message: canonicalize(message),
      allocations: judgement.ok ? judgement.allocations : [],
    };
    if (!(await store.recordClaim(row))) {
      const other = await store.getClaim(record.node, record.seq);
      return other === null ? null : { message: JSON.parse(other.message) as ClaimMessage, fresh: false };
    }
    if (judgement.ok) log.info({ node: record.node, claimSeq: record.seq, amount: claim.amount, epochs: claim.epochs, remote: { to: claim.to } }, 'claim paid');
    else log.warn({ node: record.node, claimSeq: record.seq, code: judgement.code, requested: claim.amount, claimable: judgement.amounts.claimable }, 'claim refused');
    return { message, fresh: true };
  }
}
