/**
 * The ledger as an operator reads it (`capanode-coordinator ledger`): per
 * epoch what was paid, carried and burned; per node and epoch what was
 * earned, vested, claimed, slashed and burned; and one node's payout in one
 * epoch explained line by line from the stored engine result. Vesting is
 * computed at `atMs`, each epoch under the terms it was closed with.
 */
import { CapanodeError } from '../../common/errors.js';
import { explainPayout } from '../rewards/explain.js';
import { DEFAULT_REWARD_PARAMS } from '../rewards/params.js';
import type { NodeEpochFacts } from '../rewards/facts.js';
import type { NodePayout, PenaltyLine } from '../rewards/result.js';
import type { ClaimRow, EpochRow, LedgerEntry } from '../store/ledger-types.js';
import type { Store } from '../store/types.js';
import { nodeBalances, type Amounts, type Balances } from './balances.js';
import { VestingTermsBook } from './terms.js';

export interface EpochLine {
  index: number;
  startMs: number;
  endMs: number;
  closedAt: number;
  nodes: number;
  budget: number;
  emission: number;
  carryIn: number;
  feeCut: number;
  payouts: number;
  carryOut: number;
  slashed: number;
  forfeited: number;
  burned: number;
  inputsHash: string;
}

/** One node in one epoch. `forfeited`: of what this epoch earned, what a ban took; `burned`: what this epoch's close destroyed (stake slashed, and unvested credits forfeited on fraud). */
export interface NodeEpochLine extends Amounts {
  node: string;
  epoch: number;
  slashed: number;
  burned: number;
  stakeAfter: number;
  /** Parts per 10^12. */
  reputationAfter: number;
  banned: boolean;
  penalties: PenaltyLine[];
}

export interface NodeTotals extends Amounts {
  node: string;
  slashed: number;
  burned: number;
  /** Bonded stake now: credits less slashes. */
  stake: number;
  /** After the last closed epoch, parts per 10^12. */
  reputation: number | null;
  banned: boolean;
}

export interface ClaimLine {
  seq: number;
  requested: number;
  paid: number;
  code: string | null;
  epochs: [number, number];
  to: string;
  decidedAt: number;
}

export type LedgerReport =
  | { view: 'overview'; asOf: number; epochs: EpochLine[]; nodes: NodeTotals[] }
  | { view: 'epoch'; asOf: number; epoch: EpochLine; nodes: NodeEpochLine[] }
  | { view: 'node'; asOf: number; node: NodeTotals; epochs: NodeEpochLine[]; claims: ClaimLine[] }
  | { view: 'payout'; asOf: number; node: string; epoch: EpochLine; entry: NodeEpochLine; explanation: string[]; facts: NodeEpochFacts; payout: NodePayout };

function epochLine(e: EpochRow): EpochLine {
  return {
    index: e.index,
    startMs: e.startMs,
    endMs: e.endMs,
    closedAt: e.closedAt,
    nodes: e.nodes,
    budget: e.budget,
    emission: e.summary.budget.emission,
    carryIn: e.carryIn,
    feeCut: e.summary.budget.feeCut,
    payouts: e.payouts,
    carryOut: e.carryOut,
    slashed: e.slashed,
    forfeited: e.forfeited,
    burned: e.burned,
    inputsHash: e.inputsHash,
  };
}

function nodeEpochLine(entry: LedgerEntry, b: Balances): NodeEpochLine {
  const vest = b.epochs.find((x) => x.epoch === entry.epoch);
  const amounts: Amounts = vest ?? { earned: entry.earned, vested: 0, unvested: 0, forfeited: 0, claimed: 0, claimable: 0 };
  return {
    node: entry.node,
    epoch: entry.epoch,
    earned: amounts.earned,
    vested: amounts.vested,
    unvested: amounts.unvested,
    forfeited: amounts.forfeited,
    claimed: amounts.claimed,
    claimable: amounts.claimable,
    slashed: entry.slashed,
    burned: entry.slashed + entry.forfeited,
    stakeAfter: entry.stakeAfter,
    reputationAfter: entry.reputationAfter,
    banned: entry.banned,
    penalties: entry.penalties,
  };
}

function group<T extends { node: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) out.set(r.node, [...(out.get(r.node) ?? []), r]);
  return out;
}

function claimLine(c: ClaimRow): ClaimLine {
  return { seq: c.seq, requested: c.requested, paid: c.paid, code: c.code, epochs: c.epochs, to: c.to, decidedAt: c.decidedAt };
}

export interface LedgerQuery {
  node?: string;
  epoch?: number;
  atMs: number;
}

export async function ledgerReport(store: Store, q: LedgerQuery): Promise<LedgerReport> {
  const epochs = await store.listEpochs();
  const latest = epochs[epochs.length - 1];
  const terms = new VestingTermsBook(latest?.params ?? DEFAULT_REWARD_PARAMS, epochs);
  const termsOf = (e: number) => terms.of(e);
  const balancesOf = (entries: readonly LedgerEntry[], claims: readonly ClaimRow[]) => nodeBalances(entries, claims, q.atMs, termsOf);

  let epoch: EpochRow | undefined;
  if (q.epoch !== undefined) {
    epoch = epochs.find((e) => e.index === q.epoch);
    if (epoch === undefined) {
      throw new CapanodeError('bad-input', `epoch ${q.epoch} is not closed${latest === undefined ? ': no epoch has closed yet' : ` (the last closed is ${latest.index})`}`, {
        hint: 'Leave --epoch out to list the closed epochs.',
      });
    }
  }

  if (q.node === undefined) {
    // Balances need every epoch of a node (a later ban freezes vesting), even for one epoch's view.
    const entries = await store.ledgerEntries();
    const byNode = group(entries);
    const claims = group(await store.listClaims());
    const balances = new Map([...byNode].map(([node, list]) => [node, balancesOf(list, claims.get(node) ?? [])]));
    if (epoch !== undefined) {
      const index = epoch.index;
      const lines = entries.filter((e) => e.epoch === index).map((e) => nodeEpochLine(e, balances.get(e.node) as Balances));
      return { view: 'epoch', asOf: q.atMs, epoch: epochLine(epoch), nodes: lines };
    }
    const credits = group(await store.stakeCredits(q.atMs + 1));
    const nodes = [...byNode].map(([node, list]) => totals(node, list, balances.get(node) as Balances, credits.get(node) ?? []));
    return { view: 'overview', asOf: q.atMs, epochs: epochs.map(epochLine), nodes };
  }

  const node = q.node;
  const entries = await store.ledgerEntries({ node });
  if (entries.length === 0) {
    throw new CapanodeError('bad-input', `node ${node} has no ledger entries`, { hint: 'Give the full 64-character id of a node seen before a closed epoch (`capanode-coordinator nodes`).' });
  }
  const claims = await store.listClaims(node);
  const b = balancesOf(entries, claims);
  if (epoch === undefined) {
    const credits = await store.stakeCredits(q.atMs + 1, node);
    return { view: 'node', asOf: q.atMs, node: totals(node, entries, b, credits), epochs: entries.map((e) => nodeEpochLine(e, b)), claims: claims.map(claimLine) };
  }
  const [detail] = await store.ledgerDetails({ node, fromEpoch: epoch.index, toEpoch: epoch.index });
  if (detail === undefined) {
    throw new CapanodeError('bad-input', `node ${node} has no ledger entry in epoch ${epoch.index}`, { hint: 'It was first seen later, or banned earlier; see `capanode-coordinator ledger --node ID`.' });
  }
  const explanation = explainPayout({ ...epoch.summary, nodes: [detail.payout] }, node, epoch.params);
  return { view: 'payout', asOf: q.atMs, node, epoch: epochLine(epoch), entry: nodeEpochLine(detail, b), explanation, facts: detail.facts, payout: detail.payout };
}

function totals(node: string, entries: readonly LedgerEntry[], b: Balances, credits: readonly { amount: number }[]): NodeTotals {
  const slashed = entries.reduce((s, e) => s + e.slashed, 0);
  const forfeited = entries.reduce((s, e) => s + e.forfeited, 0);
  const last = entries[entries.length - 1];
  return {
    node,
    earned: b.earned,
    vested: b.vested,
    unvested: b.unvested,
    forfeited: b.forfeited,
    claimed: b.claimed,
    claimable: b.claimable,
    slashed,
    burned: slashed + forfeited,
    stake: Math.max(0, credits.reduce((s, c) => s + c.amount, 0) - slashed),
    reputation: last?.reputationAfter ?? null,
    banned: b.frozenAt !== null,
  };
}
