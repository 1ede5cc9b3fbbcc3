/**
 * score = rho * g(u) * min(V, S / kappa)     g(u) = 0 below the uptime threshold, else u^2
 *
 * Kept as an exact integer: the factors every node shares (1 / epochMs^2,
 * 1 / kappa, 1 / REP_ONE) are left out, since only ratios of scores matter.
 * The score is linear in V and S for fixed rho and u, so splitting a node
 * into identities that each hold a part of V and S splits its score in the
 * same parts and never adds to it.
 */
import { PPM, type RewardParams } from './params.js';

/** g(u) * epochMs^2: coveredMs^2, or 0 below the threshold. */
export function uptimeWeight(coveredMs: number, params: Pick<RewardParams, 'epochMs' | 'uptimeThresholdPpm'>): bigint {
  if (coveredMs * PPM < params.uptimeThresholdPpm * params.epochMs) return 0n;
  const c = BigInt(coveredMs);
  return c * c;
}

/** min(V, S / kappa) * kappa: the capacity the stake covers, in stake units; V itself when kappa = 0 (no stake required). */
export function collateralised(gflops: number, stake: number, params: Pick<RewardParams, 'stakePerGflops'>): bigint {
  if (params.stakePerGflops === 0) return BigInt(gflops);
  const needed = BigInt(gflops) * BigInt(params.stakePerGflops);
  const s = BigInt(stake);
  return s < needed ? s : needed;
}

/** Stake beyond this earns nothing: the collateral V needs. */
export function stakeNeeded(gflops: number, params: Pick<RewardParams, 'stakePerGflops'>): number {
  return Math.min(Number.MAX_SAFE_INTEGER, gflops * params.stakePerGflops);
}

export function score(rho: number, coveredMs: number, gflops: number, stake: number, params: Pick<RewardParams, 'epochMs' | 'uptimeThresholdPpm' | 'stakePerGflops'>): bigint {
  return BigInt(rho) * uptimeWeight(coveredMs, params) * collateralised(gflops, stake, params);
}
