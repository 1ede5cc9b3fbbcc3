/**
 * The node's earnings as the coordinator reports them (`account`), and
 * claims: a claim is a record in the node's own chain, journaled like any
 * other, for what the latest account says is claimable; the coordinator
 * answers with a signed receipt or a signed refusal for that seq.
 *
 * One claim at a time: until the answer for a claim arrives, another one
 * would ask for the same credits twice and be refused.
 */
import { CapanodeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { BodyOf } from '../../proofs/envelope.js';
import { ACCOUNT_REPUTATION_ONE, type Account, type ClaimRefused, type Receipt } from '../../proofs/messages.js';
import type { StatusDocument } from '../status/index.js';

export type Earnings = StatusDocument['earnings'];

/** Where the agent's own view and the coordinator's may differ, for `claim --dry-run`. */
export interface ClaimDifference {
  kind: 'link' | 'backlog' | 'rejected' | 'unvested' | 'downtime' | 'penalty';
  message: string;
  epoch?: number;
  count?: number;
  /** Micro-credits involved, where there are any. */
  amount?: number;
}

interface AccountView {
  epoch: number | null;
  vested: number;
  unvested: number;
  claimed: number;
  claimable: number;
  asOf: number;
}

export type ClaimResult =
  | { status: 'paid'; node: string; to: string; claimSeq: number; amount: number; epochs: [number, number]; receipt: Receipt }
  | { status: 'refused'; node: string; to: string; claimSeq: number; requested: number; code: ClaimRefused['code']; message: string; vested: number; unvested: number; claimed: number; claimable: number; refusal: ClaimRefused }
  | { status: 'pending'; node: string; to: string; claimSeq: number; amount: number; message: string }
  | { status: 'nothing'; node: string; to: string; message: string; account: AccountView }
  | { status: 'dry-run'; node: string; to: string; amount: number; epochs: [number, number] | null; account: AccountView; differences: ClaimDifference[] };

export interface ClaimRequest {
  to?: string;
  dryRun?: boolean;
  /** How long to wait for the coordinator's answer. */
  timeoutMs?: number;
}

export interface EarningsDeps {
  nodeId: string;
  /** config.claimTo: where claims pay by default (else the node id). */
  claimTo: string | null;
  /** Journals a claim record; its seq, or null when the journal cannot be written. */
  appendClaim(body: BodyOf['claim']): Promise<number | null>;
  /** Why the journal cannot be written, when it cannot. */
  journalError(): string | null;
  journal(): { backlog: number; rejected: number };
  link(): { state: string; since: number | null };
  log: Logger;
}

type Outcome = { receipt: Receipt } | { refusal: ClaimRefused };

const DEFAULT_WAIT_MS = 30_000;
const MAX_WAIT_MS = 120_000;

function credits(micro: number): string {
  return (micro / 1e6).toFixed(6);
}

/** Parses the control socket's claim params. */
export function parseClaimRequest(params: Record<string, unknown>): ClaimRequest {
  const { to, dryRun, timeoutMs } = params;
  if (to !== undefined && (typeof to !== 'string' || to.length < 1 || to.length > 128)) {
    throw new CapanodeError('bad-input', '--to must be 1 to 128 characters', { hint: 'Give the address credits are paid to, e.g. --to wallet:alice.' });
  }
  if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new CapanodeError('bad-input', 'dryRun must be true or false');
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_WAIT_MS)) {
    throw new CapanodeError('bad-input', `timeoutMs must be an integer in 1..${MAX_WAIT_MS}`);
  }
  return { ...(to === undefined ? {} : { to }), ...(dryRun === undefined ? {} : { dryRun }), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

export class EarningsDesk {
  private account: Account | null = null;
  private lastReceipt: Earnings['lastReceipt'] = null;
  /** The claim journaled and not answered yet. */
  private pending: { seq: number; amount: number; to: string; settle: ((o: Outcome) => void) | null } | null = null;
  /** True while a claim record is being signed and committed. */
  private signing = false;

  constructor(private readonly deps: EarningsDeps) {}

  onAccount(account: Account): void {
    this.account = account;
  }

  onReceipt(receipt: Receipt): void {
    this.lastReceipt = { claimSeq: receipt.claimSeq, amount: receipt.amount, epochs: receipt.epochs };
    if (this.pending !== null && receipt.claimSeq === this.pending.seq && this.account !== null) {
      // Until the account that follows the receipt arrives, the paid amount is no longer claimable.
      this.account = { ...this.account, claimed: this.account.claimed + receipt.amount, claimable: Math.max(0, this.account.claimable - receipt.amount) };
    }
    this.answer(receipt.claimSeq, { receipt });
  }

  onClaimRefused(refusal: ClaimRefused): void {
    this.deps.log.warn({ remote: { claimSeq: refusal.claimSeq, code: refusal.code, message: refusal.message } }, 'claim refused by the coordinator');
    this.answer(refusal.claimSeq, { refusal });
  }

  /** The status document's earnings. */
  status(): Earnings {
    const a = this.account;
    return {
      epoch: a?.epoch ?? null,
      epochEstimate: a?.estimate ?? null,
      vested: a?.vested ?? null,
      unvested: a?.unvested ?? null,
      claimed: a?.claimed ?? null,
      claimable: a?.claimable ?? null,
      reputation: a?.reputation === null || a === null ? null : a.reputation / ACCOUNT_REPUTATION_ONE,
      stake: a?.stake ?? null,
      penalties: (a?.penalties ?? []).map((p) => ({ epoch: p.epoch, kind: p.kind, amount: p.slashed + p.forfeited, reason: p.note })),
      lastReceipt: this.lastReceipt,
      updatedAt: a?.time ?? null,
    };
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { nodeId } = this.deps;
    const to = request.to ?? this.deps.claimTo ?? nodeId;
    const a = this.account;
    if (a === null) {
      throw new CapanodeError('link-error', 'the coordinator has not sent this node its account yet: nothing is known to be claimable', {
        hint: 'Wait until `capanode status` shows the link connected and earnings, then claim again.',
      });
    }
    const view: AccountView = { epoch: a.epoch, vested: a.vested, unvested: a.unvested, claimed: a.claimed, claimable: a.claimable, asOf: a.time };
    if (request.dryRun === true) return { status: 'dry-run', node: nodeId, to, amount: a.claimEpochs === null ? 0 : a.claimable, epochs: a.claimEpochs, account: view, differences: this.differences(a) };
    if (this.signing) {
      throw new CapanodeError('bad-input', 'a claim is being journaled', { hint: 'Its result comes back to the command that made it; claim again after that.' });
    }
    if (this.pending !== null) {
      throw new CapanodeError('bad-input', `claim seq ${this.pending.seq} is still waiting for the coordinator's answer`, {
        hint: 'Its receipt shows in `capanode status` when it arrives; claim again after that.',
      });
    }
    if (a.claimable === 0 || a.claimEpochs === null) {
      return { status: 'nothing', node: nodeId, to, message: `nothing is claimable: ${credits(a.vested)} credits vested, ${credits(a.claimed)} claimed, ${credits(a.unvested)} still vesting`, account: view };
    }
    const link = this.deps.link();
    if (link.state !== 'connected') {
      throw new CapanodeError('link-error', `the link to the coordinator is ${link.state}: a claim needs an answer from it`, { hint: 'Check `capanode status` (link, last error) and claim again once it is connected.' });
    }
    const body: BodyOf['claim'] = { amount: a.claimable, to, epochs: a.claimEpochs };
    // Held until the claim is journaled (or refused), so two claims cannot both pass the checks above.
    this.signing = true;
    let seq: number | null;
    try {
      seq = await this.deps.appendClaim(body);
    } finally {
      this.signing = false;
    }
    if (seq === null) {
      throw new CapanodeError('journal-full', `the claim could not be journaled: ${this.deps.journalError() ?? 'the journal refused the write'}`, {
        hint: 'Nothing was signed. Free disk space or fix the journal (see `capanode status`), then claim again.',
      });
    }
    this.deps.log.info({ claimSeq: seq, amount: body.amount, epochs: body.epochs, to }, 'claim journaled');
    const pending = { seq, amount: body.amount, to, settle: null as ((o: Outcome) => void) | null };
    this.pending = pending;
    const outcome = await new Promise<Outcome | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), Math.min(request.timeoutMs ?? DEFAULT_WAIT_MS, MAX_WAIT_MS));
      pending.settle = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
    });
    if (outcome === null) {
      pending.settle = null;
      return {
        status: 'pending',
        node: nodeId,
        to,
        claimSeq: seq,
        amount: body.amount,
        message: `claim seq ${seq} is journaled and sent; the coordinator has not answered yet. Its receipt shows in \`capanode status\` when it arrives`,
      };
    }
    if ('receipt' in outcome) {
      const r = outcome.receipt;
      return { status: 'paid', node: nodeId, to, claimSeq: r.claimSeq, amount: r.amount, epochs: r.epochs, receipt: r };
    }
    const f = outcome.refusal;
    return { status: 'refused', node: nodeId, to, claimSeq: f.claimSeq, requested: f.requested, code: f.code, message: f.message, vested: f.vested, unvested: f.unvested, claimed: f.claimed, claimable: f.claimable, refusal: f };
  }

  private answer(seq: number, outcome: Outcome): void {
    const p = this.pending;
    if (p === null || seq !== p.seq) return;
    this.pending = null;
    p.settle?.(outcome);
  }

  /** What the coordinator's view leaves out or takes off, as the agent can tell from its journal and the account. */
  private differences(a: Account): ClaimDifference[] {
    const out: ClaimDifference[] = [];
    const link = this.deps.link();
    if (link.state !== 'connected') {
      out.push({ kind: 'link', message: `the link is ${link.state}: these are the coordinator's figures as of ${new Date(a.time).toISOString()}` });
    }
    const j = this.deps.journal();
    const unsent = j.backlog - j.rejected;
    if (unsent > 0) {
      out.push({
        kind: 'backlog',
        count: unsent,
        message: `${unsent} journaled records have not reached the coordinator (not acknowledged): it has not counted them, and uptime that arrives after its beacon went stale never counts`,
      });
    }
    if (j.rejected > 0) {
      out.push({ kind: 'rejected', count: j.rejected, message: `${j.rejected} records were rejected by the coordinator and count for nothing: see \`capanode journal verify\`` });
    }
    if (a.unvested > 0) {
      out.push({ kind: 'unvested', amount: a.unvested, message: `${credits(a.unvested)} credits are earned but not vested yet: they become claimable as they vest` });
    }
    for (const p of a.penalties) {
      const amount = p.slashed + p.forfeited;
      out.push({
        kind: p.kind === 'downtime' ? 'downtime' : 'penalty',
        epoch: p.epoch,
        count: p.count,
        amount,
        message: `epoch ${p.epoch}: ${p.kind}${p.count > 1 ? ` x${p.count}` : ''}: ${p.note}${amount > 0 ? ` (${credits(amount)} credits)` : ''}`,
      });
    }
    return out;
  }
}
