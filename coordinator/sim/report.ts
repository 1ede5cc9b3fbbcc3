/**
 * The simulator's report: per strategy, earnings per unit of real
 * contribution relative to honest nodes (the gain), how often it was caught,
 * and what it lost; plus the series the HTML charts draw. Plain JSON,
 * deterministic for a seed (numbers rounded to fixed places, no clock).
 */
import { CREDIT, type RewardParams } from '../rewards/params.js';
import type { Mechanics } from './mechanics.js';
import { STRATEGY_NAMES, type StrategyName } from './mix.js';
import type { OperatorTally, SimRun } from './run.js';
import { STRATEGIES } from './strategies/index.js';

export interface StrategyReport {
  strategy: StrategyName;
  summary: string;
  operators: number;
  identities: number;
  /** Real contribution: PFLOP/s served times epochs. */
  contributionPflopEpochs: number;
  /** Credits paid by the engine, and the part of them that paid for jobs really run. */
  earned: number;
  jobPay: number;
  slashed: number;
  forfeited: number;
  selfDealt: number;
  /** earned - jobPay - slashed - forfeited - selfDealt, credits. */
  net: number;
  /** net per PFLOP/s-epoch of real contribution. */
  creditsPerPflopEpoch: number | null;
  /** creditsPerPflopEpoch / honest's: above 1 the strategy out-earns honest nodes. */
  gain: number | null;
  /** Operators caught at least once (failed or missed check, failed audit, fraud proof, contradicted inventory). */
  detectionRate: number;
  penaltyEvents: number;
}

export interface SimReport {
  version: 1;
  options: {
    nodes: number;
    epochs: number;
    seed: number;
    mix: Partial<Record<StrategyName, number>>;
    schedule: string;
    challengesPerEpoch: number;
    jobsPerNodeEpoch: number;
  };
  params: RewardParams;
  mechanics: Mechanics;
  identities: number;
  nodeEpochs: number;
  /** Sum over epochs of |emission + carry-in + accepted fees - payouts - carry-out|, micro-credits: 0 when the split is exact. */
  conservationError: number;
  /** Credits. */
  totals: { emitted: number; feesAccepted: number; paid: number; burned: number; carriedOut: number };
  strategies: StrategyReport[];
  /** Largest gain among the strategies other than honest. */
  maxAdversarialGain: number | null;
  /**
   * Per epoch, per strategy: cumulative net credits per PFLOP/s of the strategy's real hardware
   * (so strategies of different sizes compare), and cumulative net per PFLOP/s-epoch of real
   * contribution relative to honest.
   */
  series: { strategy: StrategyName; cumulativeNetPerPflop: number[]; cumulativeGain: (number | null)[] }[];
  /** Per operator: its strategy and its net credits per PFLOP/s-epoch relative to honest (the distribution chart). */
  operators: { strategy: StrategyName; identities: number; relative: number | null }[];
}

const round = (x: number, places: number): number => {
  const f = 10 ** places;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
};
const credits = (micro: number): number => round(micro / CREDIT, 6);
const pflop = (gflopEpochs: number): number => round(gflopEpochs / 1e6, 6);

function netOf(t: OperatorTally): number {
  return t.earned - t.jobPay - t.slashed - t.forfeited - t.selfDealt;
}

export function buildReport(run: SimRun): SimReport {
  const sum = (ts: OperatorTally[], f: (t: OperatorTally) => number): number => ts.reduce((s, t) => s + f(t), 0);
  const honest = run.operators.filter((t) => t.strategy === 'honest');
  const honestRate = sum(honest, netOf) / sum(honest, (t) => t.contribution);
  const relative = (net: number, contribution: number): number | null => (contribution > 0 && honestRate > 0 ? round(net / contribution / honestRate, 4) : null);

  const strategies: StrategyReport[] = [];
  for (const name of STRATEGY_NAMES) {
    const ts = run.operators.filter((t) => t.strategy === name);
    if (ts.length === 0) continue;
    const contribution = sum(ts, (t) => t.contribution);
    const net = sum(ts, netOf);
    strategies.push({
      strategy: name,
      summary: STRATEGIES[name].summary,
      operators: ts.length,
      identities: sum(ts, (t) => t.identities),
      contributionPflopEpochs: pflop(contribution),
      earned: credits(sum(ts, (t) => t.earned)),
      jobPay: credits(sum(ts, (t) => t.jobPay)),
      slashed: credits(sum(ts, (t) => t.slashed)),
      forfeited: credits(sum(ts, (t) => t.forfeited)),
      selfDealt: credits(sum(ts, (t) => t.selfDealt)),
      net: credits(net),
      creditsPerPflopEpoch: contribution > 0 ? round(net / contribution, 6) : null,
      gain: relative(net, contribution),
      detectionRate: round(ts.filter((t) => t.detected).length / ts.length, 4),
      penaltyEvents: sum(ts, (t) => t.penaltyEvents),
    });
  }
  const adversarial = strategies.filter((s) => s.strategy !== 'honest' && s.gain !== null).map((s) => s.gain ?? 0);

  const series: SimReport['series'] = [];
  const honestNet = run.series.net.get('honest') ?? [];
  const honestContribution = run.series.contribution.get('honest') ?? [];
  for (const [strategy, nets] of run.series.net) {
    const contributions = run.series.contribution.get(strategy) ?? [];
    const hardware = sum(
      run.operators.filter((t) => t.strategy === strategy),
      (t) => t.capacity,
    ) / 1e6;
    let n = 0;
    let c = 0;
    let hn = 0;
    let hc = 0;
    const cumulativeNetPerPflop: number[] = [];
    const cumulativeGain: (number | null)[] = [];
    nets.forEach((x, i) => {
      n += x;
      c += contributions[i] ?? 0;
      hn += honestNet[i] ?? 0;
      hc += honestContribution[i] ?? 0;
      cumulativeNetPerPflop.push(hardware > 0 ? round(n / CREDIT / hardware, 4) : 0);
      cumulativeGain.push(c > 0 && hn > 0 && hc > 0 ? round(n / c / (hn / hc), 4) : null);
    });
    series.push({ strategy, cumulativeNetPerPflop, cumulativeGain });
  }

  return {
    version: 1,
    options: {
      nodes: run.options.nodes,
      epochs: run.options.epochs,
      seed: run.options.seed,
      mix: run.options.mix,
      schedule: run.options.schedule,
      challengesPerEpoch: run.options.challengesPerEpoch,
      jobsPerNodeEpoch: run.options.jobsPerNodeEpoch,
    },
    params: run.options.params,
    mechanics: run.options.mechanics,
    identities: run.identities,
    nodeEpochs: run.nodeEpochs,
    conservationError: run.conservationError,
    totals: { emitted: credits(run.emitted), feesAccepted: credits(run.feesAccepted), paid: credits(run.paid), burned: credits(run.burned), carriedOut: credits(run.carryOut) },
    strategies,
    maxAdversarialGain: adversarial.length === 0 ? null : Math.max(...adversarial),
    series,
    operators: run.operators.map((t) => ({ strategy: t.strategy, identities: t.identities, relative: relative(netOf(t), t.contribution) })),
  };
}
