/**
 * The strategy mix: `honest=0.6,sybil=0.1,...` as weights over the known
 * strategies, and the exact number of operators each gets (largest
 * remainder, so the counts add up to --nodes).
 */
import { CapanodeError } from '../../common/errors.js';
import { apportion } from '../rewards/split.js';

export const STRATEGY_NAMES = [
  'honest',
  'flaky',
  'sybil',
  'spoof',
  'lazy',
  'replay',
  'downgrade',
  'multiplex',
  'uptime-gaming',
  'wash',
  'whale',
  'rep-fraud',
] as const;

export type StrategyName = (typeof STRATEGY_NAMES)[number];
export type Mix = Partial<Record<StrategyName, number>>;

/** Half honest, a tenth honest-but-flaky, four percent of each attack. */
export const DEFAULT_MIX: Mix = {
  honest: 0.5,
  flaky: 0.1,
  sybil: 0.04,
  spoof: 0.04,
  lazy: 0.04,
  replay: 0.04,
  downgrade: 0.04,
  multiplex: 0.04,
  'uptime-gaming': 0.04,
  wash: 0.04,
  whale: 0.04,
  'rep-fraud': 0.04,
};

function isStrategy(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

export function parseMix(text: string): Mix {
  const mix: Mix = {};
  const problems: string[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([a-z-]+)=([0-9]*\.?[0-9]+)$/.exec(item);
    const name = m?.[1] ?? '';
    if (m === null) problems.push(`"${item}" is not NAME=WEIGHT`);
    else if (!isStrategy(name)) problems.push(`unknown strategy "${name}"`);
    else if (mix[name] !== undefined) problems.push(`"${name}" given twice`);
    else mix[name] = Number(m[2]);
  }
  const total = Object.values(mix).reduce((s, w) => s + w, 0);
  if (problems.length === 0 && total <= 0) problems.push('the weights add up to 0');
  if (problems.length === 0 && (mix.honest ?? 0) <= 0) problems.push('honest must have a weight above 0: every gain is measured against honest nodes');
  if (problems.length > 0) {
    throw new CapanodeError('sim-options-invalid', `bad --mix "${text}": ${problems.join('; ')}`, {
      hint: `Give NAME=WEIGHT pairs separated by commas, e.g. honest=0.6,sybil=0.2,lazy=0.2; strategies: ${STRATEGY_NAMES.join(', ')}.`,
    });
  }
  return mix;
}

/** How many of `nodes` operators follow each strategy, in STRATEGY_NAMES order. */
export function allocate(nodes: number, mix: Mix): { strategy: StrategyName; count: number }[] {
  const names = STRATEGY_NAMES.filter((n) => (mix[n] ?? 0) > 0);
  const counts = apportion(
    nodes,
    names.map((n) => ({ id: n, weight: BigInt(Math.round((mix[n] ?? 0) * 1e9)) })),
  );
  return names.map((strategy, i) => ({ strategy, count: counts[i] ?? 0 }));
}
