/** What a simulated operator is and what a strategy decides for it each epoch. */
import type { Hardware } from './hardware.js';
import type { StrategyName } from './mix.js';
import type { Prng } from './prng.js';

/** [from, to) in milliseconds from the start of the epoch. */
export type Segment = readonly [number, number];

/** How an identity answers a PoT challenge. */
export type PotConduct =
  | { kind: 'honest' }
  /** Skips this fraction of the work (rows or reps) and hopes the checks miss it. */
  | { kind: 'skip'; fraction: number }
  /** Computes this fraction of the work in a lower precision, twice as fast there. */
  | { kind: 'downgrade'; fraction: number }
  /** Sends a root from an earlier challenge instead of computing. */
  | { kind: 'replay' };

/** One identity (node key) an operator runs. */
export interface IdentitySpec {
  /** Which of the operator's GPU groups does this identity's work; identities in one group share it. */
  group: number;
  /** Real throughput of that group when it works for one identity alone. */
  groupGflops: number;
  /** The inventory it claims: what the coordinator sizes challenges for. */
  claimedGflops: number;
  /** Stake bonded at the start. */
  stake: number;
}

/** What an operator does in one epoch; applies to all its identities. */
export interface EpochConduct {
  /** When the link is up: attestations with fresh beacons flow, challenges and jobs can arrive. */
  link: Segment[];
  /** When the GPU serves the network (PoT and jobs): its real contribution. */
  gpu: Segment[];
  /** Answers PoT challenges even when the GPU is busy elsewhere (it preempts that work). */
  answersWhileAway: boolean;
  /** After an outage, signs attestations for the gap with the last beacon it saw. */
  backfill: boolean;
  pot: PotConduct;
  /** Returns made-up results for assigned jobs instead of running them. */
  forgeJobs: boolean;
  /** Fees it pays, as a customer, for jobs it runs itself (micro-credits). */
  selfDealFees: number;
}

export interface Operator {
  index: number;
  strategy: StrategyName;
  hardware: Hardware;
  identities: IdentitySpec[];
  /** The strategy's own random stream. */
  rng: Prng;
  /** Numbers the strategy fixed at setup (e.g. the epoch a fraud starts). */
  traits: Record<string, number>;
}

export interface SetupContext {
  epochs: number;
  /** kappa: stake per GFLOP/s. */
  stakePerGflops: number;
}

export interface EpochContext {
  epoch: number;
  epochs: number;
  epochMs: number;
}

export interface Strategy {
  name: StrategyName;
  /** One line for the report. */
  summary: string;
  /** The machine, the identities it presents and anything fixed for the whole run. */
  setup(rng: Prng, ctx: SetupContext): { hardware: Hardware; identities: IdentitySpec[]; traits?: Record<string, number> };
  conduct(op: Operator, ctx: EpochContext): EpochConduct;
}
