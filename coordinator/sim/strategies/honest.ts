import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

export const honest: Strategy = {
  name: 'honest',
  summary: 'online all the time, computes every challenge and job, stake covering its capacity',
  setup: (rng, ctx) => singleIdentity(rng, ctx),
  conduct: (_op, ctx) => honestConduct(ctx.epochMs),
};
