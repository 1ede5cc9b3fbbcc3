/**
 * The adversarial simulator: operators following strategies produce an
 * epoch's facts through the coordinator's real checks (mechanics.ts), the
 * real reward engine (computeEpoch, the same code the coordinator runs) pays
 * them, and the ledger effects (stake, reputation, vesting, bans) are fed
 * back into the next epoch. Deterministic for a seed: no clock, no
 * Math.random; the report holds no timing.
 */
import { CapanodeError } from '../../common/errors.js';
import { initialBasis } from '../pot/window.js';
import { computeEpoch } from '../rewards/payout.js';
import type { NodePayout } from '../rewards/result.js';
import { DEFAULT_REWARD_PARAMS, PPM, checkRewardParams, type RewardParams } from '../rewards/params.js';
import { epochFacts, firstRounds, newScratch, runChallenges, runJobs, type Account, type EpochState, type World } from './epoch.js';
import { DEFAULT_MECHANICS, totalMs, type ChallengeSchedule, type Mechanics } from './mechanics.js';
import { allocate, STRATEGY_NAMES, type Mix, type StrategyName } from './mix.js';
import { Prng } from './prng.js';
import { STRATEGIES } from './strategies/index.js';
import type { EpochConduct, Operator } from './types.js';

export interface SimOptions {
  /** Operators (machines and their owners); sybil and multiplex operators run several identities each. */
  nodes: number;
  epochs: number;
  seed: number;
  mix: Mix;
  /** The engine's parameters; the default asks for stake (kappa = 100 micro-credits per GFLOP/s) so stake strategies mean something. */
  params?: RewardParams;
  mechanics?: Mechanics;
  challengesPerEpoch?: number;
  /** When nodes are challenged and how throughput is credited (mechanics.ts `shares`); default 'windowed'. */
  schedule?: ChallengeSchedule;
  /** Customer jobs per operator and epoch, on average. */
  jobsPerNodeEpoch?: number;
}

export const SIM_REWARD_PARAMS: RewardParams = checkRewardParams({ ...DEFAULT_REWARD_PARAMS, stakePerGflops: 100 });

const GENESIS_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z: epochs start on the hour

export interface OperatorTally {
  strategy: StrategyName;
  identities: number;
  /** Real throughput of the operator's GPUs, GFLOP/s. */
  capacity: number;
  /** Real contribution: GFLOP/s the operator's GPUs served the network, times the epochs they did. */
  contribution: number;
  /** Everything paid: the engine's payouts. */
  earned: number;
  /**
   * The part of `earned` that pays for jobs it really ran for customers (90% of
   * their fees and their work share): the same per credit of fees for every
   * node, so the gain compares what is left.
   */
  jobPay: number;
  slashed: number;
  forfeited: number;
  selfDealt: number;
  /** Caught at least once: a failed or missed check, a failed audit, a fraud proof, or an inventory that its verdicts contradict. */
  detected: boolean;
  penaltyEvents: number;
}

export interface SimRun {
  options: Required<Omit<SimOptions, 'params' | 'mechanics'>> & { params: RewardParams; mechanics: Mechanics };
  operators: OperatorTally[];
  identities: number;
  nodeEpochs: number;
  conservationError: number;
  emitted: number;
  feesAccepted: number;
  paid: number;
  burned: number;
  carryOut: number;
  /** Per epoch and strategy. */
  series: { net: Map<StrategyName, number[]>; contribution: Map<StrategyName, number[]> };
}

function checkOptions(o: SimOptions): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(o.nodes) || o.nodes < 1 || o.nodes > 1_000_000) problems.push(`--nodes ${o.nodes}: must be an integer from 1 to 1000000`);
  if (!Number.isSafeInteger(o.epochs) || o.epochs < 1 || o.epochs > 100_000) problems.push(`--epochs ${o.epochs}: must be an integer from 1 to 100000`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) problems.push(`--seed ${o.seed}: must be a non-negative integer`);
  const cpe = o.challengesPerEpoch ?? 2;
  if (!Number.isSafeInteger(cpe) || cpe < 1 || cpe > 100) problems.push(`challengesPerEpoch ${cpe}: must be an integer from 1 to 100`);
  const jobs = o.jobsPerNodeEpoch ?? 2;
  if (!Number.isFinite(jobs) || jobs < 0 || jobs > 1000) problems.push(`jobsPerNodeEpoch ${jobs}: must be from 0 to 1000`);
  if (problems.length > 0) throw new CapanodeError('sim-options-invalid', problems.join('; '), { hint: 'Example: capanode-coordinator simulate --nodes 1000 --epochs 168 --seed 1' });
}

/** The operators each strategy sets up, and the identities (accounts) they register. */
function populate(rng: Prng, options: SimOptions, params: RewardParams, m: Mechanics): { operators: Operator[]; accounts: Account[] } {
  const operators: Operator[] = [];
  const accounts: Account[] = [];
  let index = 0;
  for (const { strategy, count } of allocate(options.nodes, options.mix)) {
    for (let i = 0; i < count; i++, index++) {
      const own = rng.fork(`operator-${index}`);
      const made = STRATEGIES[strategy].setup(own.fork('setup'), { epochs: options.epochs, stakePerGflops: params.stakePerGflops });
      const op: Operator = { index, strategy, hardware: made.hardware, identities: made.identities, rng: own.fork('conduct'), traits: made.traits ?? {} };
      operators.push(op);
      for (const spec of made.identities) accounts.push({ id: own.hex(32), op, spec, stake: spec.stake, reputation: null, verdicts: [], grants: [], banned: false, capacity: 0, basis: initialBasis(null, m.potGpuGflops) });
    }
  }
  return { operators, accounts };
}

/**
 * Feeds one payout back into the identity's ledger (stake, reputation,
 * verdict-based V, vesting grant, ban) and its operator's tally; returns the
 * node's net earnings for the gain: paid, less pay for jobs really run, slashes,
 * forfeits and self-dealt fees.
 */
function settle(p: NodePayout, a: Account, t: OperatorTally, epoch: EpochState, params: RewardParams): number {
  a.stake = p.stakeAfter;
  a.reputation = p.reputationAfter;
  a.capacity = p.facts.capacityGflops;
  if (p.payout > 0) a.grants.push({ amount: p.payout, startMs: epoch.startMs + params.epochMs });
  if (p.banned) a.banned = true;
  const scratch = epoch.scratch.get(a);
  const selfFee = scratch?.selfDealt ?? 0;
  const genuine = scratch?.genuineFees ?? 0;
  // 90% of the genuine jobs' fees and their part of the work share: what any node gets per credit of real work.
  const jobPay = p.facts.acceptedFees === 0 ? 0 : (genuine * params.feeToNodePpm) / PPM + (Number(p.parts.work) * genuine) / p.facts.acceptedFees;
  const events = p.penalties.filter((x) => x.kind !== 'downtime').reduce((s, x) => s + x.count, 0);
  t.earned += p.payout;
  t.slashed += p.slashed;
  t.forfeited += p.forfeited;
  t.selfDealt += selfFee;
  t.jobPay += jobPay;
  t.penaltyEvents += events;
  if (events > 0 || (p.facts.capacityGflops > 0 && a.spec.claimedGflops > 2 * p.facts.capacityGflops)) t.detected = true;
  return p.payout - jobPay - p.slashed - p.forfeited - selfFee;
}

export function simulate(options: SimOptions): SimRun {
  checkOptions(options);
  const params = checkRewardParams(options.params ?? SIM_REWARD_PARAMS);
  const m = options.mechanics ?? DEFAULT_MECHANICS;
  const schedule = options.schedule ?? 'windowed';
  const challengesPerEpoch = options.challengesPerEpoch ?? 2;
  const jobsPerNodeEpoch = options.jobsPerNodeEpoch ?? 2;
  const epochMs = params.epochMs;
  const root = new Prng(options.seed, 'capanode-sim');
  const { operators, accounts } = populate(root.fork('world'), options, params, m);
  const world: World = { params, m, schedule, challengesPerEpoch, jobsPerEpoch: Math.round(operators.length * jobsPerNodeEpoch), rng: root.fork('coordinator') };
  const byOperator: Account[][] = operators.map(() => []);
  for (const a of accounts) byOperator[a.op.index]?.push(a);
  const tallies: OperatorTally[] = operators.map((op) => ({ strategy: op.strategy, identities: op.identities.length, capacity: op.hardware.capacity, contribution: 0, earned: 0, jobPay: 0, slashed: 0, forfeited: 0, selfDealt: 0, detected: false, penaltyEvents: 0 }));
  const present = STRATEGY_NAMES.filter((s) => operators.some((o) => o.strategy === s));
  const series = { net: new Map(present.map((s) => [s, [] as number[]])), contribution: new Map(present.map((s) => [s, [] as number[]])) };

  let carryIn = 0;
  let conservationError = 0;
  let nodeEpochs = 0;
  let emitted = 0;
  let feesAccepted = 0;
  let paid = 0;
  let burned = 0;

  for (let e = 0; e < options.epochs; e++) {
    const startMs = GENESIS_MS + e * epochMs;
    const ctx = { epoch: e, epochs: options.epochs, epochMs };
    const conducts: EpochConduct[] = operators.map((op) => STRATEGIES[op.strategy].conduct(op, ctx));
    if (e === 0) firstRounds(world, accounts, conducts);
    const live = accounts.filter((a) => !a.banned);
    const epoch: EpochState = { index: e, startMs, conducts, live, scratch: new Map(live.map((a) => [a, newScratch()])) };
    runChallenges(world, epoch);
    runJobs(world, epoch);
    const nodes = epochFacts(world, epoch);
    nodeEpochs += nodes.length;
    const result = computeEpoch({ epoch: { index: e, startMs }, carryIn, nodes }, params);

    // Conservation, checked from the facts the simulator built, not from the engine's own totals.
    let accepted = 0;
    for (const n of nodes) if (n.fraud.length === 0) for (const j of n.jobs) if (j.audit !== 'failed') accepted += j.fee;
    const paidOut = result.nodes.reduce((s, n) => s + n.payout, 0);
    conservationError += Math.abs(params.emissionPerEpoch + carryIn + accepted - (paidOut + result.budget.carryOut));
    emitted += params.emissionPerEpoch;
    feesAccepted += accepted;
    paid += paidOut;
    burned += result.totals.burned;
    carryIn = result.budget.carryOut;

    // Ledger effects, tallies, real contribution.
    const byId = new Map(live.map((a) => [a.id, a]));
    const epochNet = new Map(present.map((s) => [s, 0]));
    const epochContribution = new Map(present.map((s) => [s, 0]));
    for (const p of result.nodes) {
      const a = byId.get(p.node);
      const t = a === undefined ? undefined : tallies[a.op.index];
      if (a === undefined || t === undefined) continue;
      const net = settle(p, a, t, epoch, params);
      epochNet.set(t.strategy, (epochNet.get(t.strategy) ?? 0) + net);
    }
    for (const op of operators) {
      const conduct = conducts[op.index];
      const t = tallies[op.index];
      // A banned operator's GPU no longer serves the network.
      if (conduct === undefined || t === undefined || (byOperator[op.index] ?? []).every((a) => a.banned)) continue;
      const served = (op.hardware.capacity * totalMs(conduct.gpu)) / epochMs;
      t.contribution += served;
      epochContribution.set(op.strategy, (epochContribution.get(op.strategy) ?? 0) + served);
    }
    for (const s of present) {
      series.net.get(s)?.push(epochNet.get(s) ?? 0);
      series.contribution.get(s)?.push(epochContribution.get(s) ?? 0);
    }
  }

  return {
    options: { nodes: options.nodes, epochs: options.epochs, seed: options.seed, mix: options.mix, params, mechanics: m, challengesPerEpoch, schedule, jobsPerNodeEpoch },
    operators: tallies,
    identities: accounts.length,
    nodeEpochs,
    conservationError,
    emitted,
    feesAccepted,
    paid,
    burned,
    carryOut: carryIn,
    series,
  };
}
