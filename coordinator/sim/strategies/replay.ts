import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/** Answers challenges with a root it computed for an earlier one, to save the work. */
export const replay: Strategy = {
  name: 'replay',
  summary: 'answers each challenge with an old root; every seed is fresh, so no root matches',
  setup: (rng, ctx) => singleIdentity(rng, ctx),
  conduct: (_op, ctx) => ({ ...honestConduct(ctx.epochMs), pot: { kind: 'replay' } }),
};
