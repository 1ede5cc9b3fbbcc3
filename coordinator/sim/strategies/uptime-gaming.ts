import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/**
 * Online only around the top of each hour (when a naive coordinator would
 * check), 50-70% of the time, and backfills attestations for the rest at
 * reconnection with the last beacon it saw.
 */
export const uptimeGaming: Strategy = {
  name: 'uptime-gaming',
  summary: 'online only around the top of each hour (50-70% of it), backfilling the gaps with old beacons',
  setup: (rng, ctx) => ({ ...singleIdentity(rng, ctx), traits: { online: rng.between(0.5, 0.7) } }),
  conduct: (op, ctx) => {
    const half = Math.floor((ctx.epochMs * (op.traits['online'] ?? 0.5)) / 2);
    const up = [[0, half] as const, [ctx.epochMs - half, ctx.epochMs] as const];
    return { ...honestConduct(ctx.epochMs), link: up, gpu: up, backfill: true };
  },
};
