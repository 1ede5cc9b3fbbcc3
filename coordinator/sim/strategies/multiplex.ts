import { drawHardware } from '../hardware.js';
import type { Strategy } from '../types.js';
import { bondFor, honestConduct } from './common.js';

/**
 * One GPU behind two to four identities, each claiming the GPU's share (so
 * challenges sized by claims fit) and each bonding the stake the whole GPU
 * needs, in case every identity is verified at the GPU's full speed. How it
 * shares the GPU in a challenge is the best answer to each schedule
 * (mechanics.ts `shares`, window-round.ts `sharedCommits`).
 */
export const multiplex: Strategy = {
  name: 'multiplex',
  summary: 'one GPU behind 2-4 identities, hoping each passes its challenges at full speed',
  setup: (rng, ctx) => {
    const hardware = drawHardware(rng, { maxGpus: 1 });
    const m = rng.int(2, 4);
    const share = hardware.capacity / m;
    const identities = Array.from({ length: m }, () => ({ group: 0, groupGflops: hardware.capacity, claimedGflops: share, stake: bondFor(hardware.capacity, ctx, rng) }));
    return { hardware, identities };
  },
  conduct: (_op, ctx) => honestConduct(ctx.epochMs),
};
