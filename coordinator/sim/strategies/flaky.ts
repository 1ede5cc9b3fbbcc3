import { withOutage } from '../mechanics.js';
import type { Strategy } from '../types.js';
import { honestConduct, singleIdentity } from './common.js';

/** Honest, but a quarter of its epochs have an outage of 5 to 90 minutes (power, network, reboots). */
export const flaky: Strategy = {
  name: 'flaky',
  summary: 'honest, but one epoch in four has an outage of 5-90 minutes',
  setup: (rng, ctx) => singleIdentity(rng, ctx),
  conduct: (op, ctx) => {
    const base = honestConduct(ctx.epochMs);
    if (!op.rng.chance(0.25)) return base;
    const length = op.rng.int(5, 90) * 60_000;
    const from = op.rng.int(0, ctx.epochMs - length);
    const up = withOutage(ctx.epochMs, from, from + length);
    return { ...base, link: up, gpu: up };
  },
};
