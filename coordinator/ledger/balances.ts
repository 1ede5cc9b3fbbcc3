/**
 * A node's balances at a point in time, from its ledger entries and its paid
 * claims: per epoch what it earned, what has vested (each epoch's earnings
 * vest from the epoch's end, under the terms of that epoch), what claims
 * drew on it, and what can still be claimed. A banned node's vesting stops
 * at the end of the epoch that proved the fraud: the rest was forfeited.
 */
import { vestedAmount } from '../rewards/vesting.js';
import type { ClaimAllocation, ClaimRow, LedgerEntry } from '../store/ledger-types.js';
import type { VestingTerms } from './terms.js';

export interface Amounts {
  earned: number;
  vested: number;
  /** Earned, not vested yet (0 once forfeited). */
  unvested: number;
  /** Unvested credits a fraud proof forfeited. */
  forfeited: number;
  claimed: number;
  /** vested - claimed (0 for a banned node). */
  claimable: number;
}

export interface EpochBalance extends Amounts {
  epoch: number;
  endMs: number;
}

export interface Balances extends Amounts {
  /** Oldest first. */
  epochs: EpochBalance[];
  /** When vesting stopped (the end of the epoch that banned the node); null for a node in good standing. */
  frozenAt: number | null;
}

const ZERO: Amounts = { earned: 0, vested: 0, unvested: 0, forfeited: 0, claimed: 0, claimable: 0 };

export function sumAmounts(list: readonly Amounts[]): Amounts {
  const out = { ...ZERO };
  for (const a of list) {
    out.earned += a.earned;
    out.vested += a.vested;
    out.unvested += a.unvested;
    out.forfeited += a.forfeited;
    out.claimed += a.claimed;
    out.claimable += a.claimable;
  }
  return out;
}

/** Micro-credits each epoch has paid out through claims. */
export function claimedByEpoch(claims: readonly Pick<ClaimRow, 'allocations'>[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const c of claims) for (const a of c.allocations) out.set(a.epoch, (out.get(a.epoch) ?? 0) + a.amount);
  return out;
}

/** One node's balances at `atMs`; entries and claims are that node's. */
export function nodeBalances(entries: readonly LedgerEntry[], claims: readonly Pick<ClaimRow, 'allocations'>[], atMs: number, termsOf: (epoch: number) => VestingTerms): Balances {
  const sorted = [...entries].sort((a, b) => a.epoch - b.epoch);
  const frozenAt = sorted.find((e) => e.banned)?.endMs ?? null;
  const at = frozenAt === null ? atMs : Math.min(atMs, frozenAt);
  const claimed = claimedByEpoch(claims);
  const epochs = sorted.map((e): EpochBalance => {
    const vested = vestedAmount({ amount: e.earned, startMs: e.endMs }, at, termsOf(e.epoch));
    const paid = claimed.get(e.epoch) ?? 0;
    return {
      epoch: e.epoch,
      endMs: e.endMs,
      earned: e.earned,
      vested,
      unvested: frozenAt === null ? e.earned - vested : 0,
      forfeited: frozenAt === null ? 0 : e.earned - vested,
      claimed: paid,
      claimable: frozenAt === null ? Math.max(0, vested - paid) : 0,
    };
  });
  return { ...sumAmounts(epochs), epochs, frozenAt };
}

/** The amounts of the epochs in [first, last]. */
export function rangeAmounts(b: Balances, first: number, last: number): Amounts {
  return sumAmounts(b.epochs.filter((e) => e.epoch >= first && e.epoch <= last));
}

/** The smallest epoch range holding every claimable credit; null when there is none. */
export function claimableRange(b: Balances): [number, number] | null {
  const open = b.epochs.filter((e) => e.claimable > 0);
  const first = open[0];
  const last = open[open.length - 1];
  return first === undefined || last === undefined ? null : [first.epoch, last.epoch];
}

/** Draws `amount` from the claimable credits of epochs [first, last], oldest first; null when they hold less. */
export function allocate(b: Balances, first: number, last: number, amount: number): ClaimAllocation[] | null {
  const out: ClaimAllocation[] = [];
  let left = amount;
  for (const e of b.epochs) {
    if (left === 0) break;
    if (e.epoch < first || e.epoch > last || e.claimable === 0) continue;
    const take = Math.min(left, e.claimable);
    out.push({ epoch: e.epoch, amount: take });
    left -= take;
  }
  return left === 0 ? out : null;
}
