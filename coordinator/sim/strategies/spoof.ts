import { DEVICE_CLASSES, drawHardware } from '../hardware.js';
import type { Strategy } from '../types.js';
import { bondFor, honestConduct } from './common.js';

/** Reports H100s in its inventory while running smaller cards. */
export const spoof: Strategy = {
  name: 'spoof',
  summary: 'claims H100s in its inventory; runs RTX 3090/4090 or A100 cards',
  setup: (rng, ctx) => {
    const hardware = drawHardware(rng, { classes: ['rtx3090', 'rtx4090', 'a100'] });
    const claimed = DEVICE_CLASSES.h100 * hardware.gpus;
    return { hardware, identities: [{ group: 0, groupGflops: hardware.capacity, claimedGflops: claimed, stake: bondFor(hardware.capacity, ctx, rng) }] };
  },
  conduct: (_op, ctx) => honestConduct(ctx.epochMs),
};
