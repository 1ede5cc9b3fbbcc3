import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/**
 * Honest for 50-80% of the run to build reputation, then rents its GPU out
 * elsewhere: keeps answering challenges (to keep V) but forges every job
 * result.
 */
export const repFraud: Strategy = {
  name: 'rep-fraud',
  summary: 'honest for 50-80% of the run, then forges every job result while its GPU works elsewhere',
  setup: (rng, ctx) => ({ ...singleIdentity(rng, ctx), traits: { fraudAt: Math.floor(ctx.epochs * rng.between(0.5, 0.8)) } }),
  conduct: (op, ctx) => {
    const base = honestConduct(ctx.epochMs);
    if (ctx.epoch < (op.traits['fraudAt'] ?? ctx.epochs)) return base;
    return { ...base, gpu: [], answersWhileAway: true, forgeJobs: true };
  },
};
