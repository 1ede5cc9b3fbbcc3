import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/** Buys jobs from itself (1-5 credits an epoch) to collect work shares and inflate utilisation. */
export const wash: Strategy = {
  name: 'wash',
  summary: 'pays 1-5 credits an epoch in fees for jobs it runs itself (wash trading)',
  setup: (rng, ctx) => ({ ...singleIdentity(rng, ctx), traits: { fees: rng.int(1_000_000, 5_000_000) } }),
  conduct: (op, ctx) => ({ ...honestConduct(ctx.epochMs), selfDealFees: op.traits['fees'] ?? 0 }),
};
