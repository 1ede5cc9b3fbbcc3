/**
 * Vesting (DESIGN §8): each epoch's earnings vest `vestImmediatePpm` (25%) at
 * the end of the epoch and the rest linearly over `vestingMs` (30 days).
 * `claim` pays what has vested and not been claimed; proven fraud forfeits
 * what has not vested. Exact integers, rounded down in the node's disfavour
 * only until the schedule ends, when everything has vested.
 */
import { mulDivFloor } from './math.js';
import { PPM, type RewardParams } from './params.js';

export interface Grant {
  /** Micro-credits earned in one epoch. */
  amount: number;
  /** The end of that epoch: when vesting starts. */
  startMs: number;
}

type VestingParams = Pick<RewardParams, 'vestImmediatePpm' | 'vestingMs'>;

export function vestedAmount(grant: Grant, atMs: number, params: VestingParams): number {
  if (atMs < grant.startMs) return 0;
  const elapsed = atMs - grant.startMs;
  if (params.vestingMs === 0 || elapsed >= params.vestingMs) return grant.amount;
  const immediate = mulDivFloor(grant.amount, params.vestImmediatePpm, PPM);
  return immediate + mulDivFloor(grant.amount - immediate, elapsed, params.vestingMs);
}

export function vestedTotal(grants: readonly Grant[], atMs: number, params: VestingParams): number {
  let sum = 0;
  for (const g of grants) sum += vestedAmount(g, atMs, params);
  return sum;
}

/** What proven fraud at `atMs` would forfeit. */
export function unvestedTotal(grants: readonly Grant[], atMs: number, params: VestingParams): number {
  let sum = 0;
  for (const g of grants) sum += g.amount - vestedAmount(g, atMs, params);
  return sum;
}
