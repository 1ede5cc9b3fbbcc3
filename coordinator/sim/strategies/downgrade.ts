import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/** Computes part of each challenge in a lower precision (int8/fp8 tensor cores run it twice as fast). */
export const downgrade: Strategy = {
  name: 'downgrade',
  summary: 'computes 25-100% of each challenge in lower precision; the exact digests of those rows differ',
  setup: (rng, ctx) => ({ ...singleIdentity(rng, ctx), traits: { fraction: rng.pick([0.25, 0.5, 1]) } }),
  conduct: (op, ctx) => ({ ...honestConduct(ctx.epochMs), pot: { kind: 'downgrade', fraction: op.traits['fraction'] ?? 1 } }),
};
