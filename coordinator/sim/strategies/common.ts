/** What most strategies share: an honest epoch, one identity per machine, stake that covers the capacity. */
import { drawHardware, type Hardware } from '../hardware.js';
import type { Prng } from '../prng.js';
import type { EpochConduct, IdentitySpec, SetupContext } from '../types.js';

export function honestConduct(epochMs: number): EpochConduct {
  return { link: [[0, epochMs]], gpu: [[0, epochMs]], answersWhileAway: false, backfill: false, pot: { kind: 'honest' }, forgeJobs: false, selfDealFees: 0 };
}

/** Stake covering `gflops` at kappa, times a margin drawn in [1, 1.5) (slashes eat into it). */
export function bondFor(gflops: number, ctx: SetupContext, rng: Prng, factor?: number): number {
  return Math.ceil(gflops * ctx.stakePerGflops * (factor ?? rng.between(1, 1.5)));
}

/** One machine, one identity, honest inventory. */
export function singleIdentity(rng: Prng, ctx: SetupContext, hardware: Hardware = drawHardware(rng), stakeFactor?: number): { hardware: Hardware; identities: IdentitySpec[] } {
  return { hardware, identities: [{ group: 0, groupGflops: hardware.capacity, claimedGflops: hardware.capacity, stake: bondFor(hardware.capacity, ctx, rng, stakeFactor) }] };
}
