import { drawHardware } from '../hardware.js';
import type { Strategy } from '../types.js';
import { bondFor, honestConduct } from './common.js';

/** A multi-GPU server registered as one identity per GPU, hoping many small nodes earn more than one big one. */
export const sybil: Strategy = {
  name: 'sybil',
  summary: 'splits a multi-GPU server into one identity per GPU, stake split the same way',
  setup: (rng, ctx) => {
    const hardware = drawHardware(rng, { minGpus: 2 });
    const per = hardware.capacity / hardware.gpus;
    const identities = Array.from({ length: hardware.gpus }, (_, g) => ({ group: g, groupGflops: per, claimedGflops: per, stake: bondFor(per, ctx, rng) }));
    return { hardware, identities };
  },
  conduct: (_op, ctx) => honestConduct(ctx.epochMs),
};
