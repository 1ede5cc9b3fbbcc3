import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/** Bonds twenty times the stake its capacity needs, hoping stake weighs. */
export const whale: Strategy = {
  name: 'whale',
  summary: 'bonds 20x the stake its capacity needs',
  setup: (rng, ctx) => singleIdentity(rng, ctx, undefined, 20),
  conduct: (_op, ctx) => honestConduct(ctx.epochMs),
};
