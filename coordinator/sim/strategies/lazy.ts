import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/** Skips 1%, 3% or 10% of each challenge's work to look faster. */
export const lazy: Strategy = {
  name: 'lazy',
  summary: 'skips 1-10% of each PoT challenge to look faster; passes with probability (1-f)^k',
  setup: (rng, ctx) => ({ ...singleIdentity(rng, ctx), traits: { skip: rng.pick([0.01, 0.03, 0.1]) } }),
  conduct: (op, ctx) => ({ ...honestConduct(ctx.epochMs), pot: { kind: 'skip', fraction: op.traits['skip'] ?? 0.01 } }),
};
