/** fast-check generators of epochs' facts, and the small helpers the property tests share. */
import fc from 'fast-check';
import { DEFAULT_REWARD_PARAMS, REP_ONE, type EpochInput, type EpochResult, type FraudProof, type JobFact, type NodeEpochFacts, type RewardParams, type VerdictFact } from '../../../coordinator/rewards/index.js';

export const EPOCH_START = 100 * DEFAULT_REWARD_PARAMS.epochMs;
const EPOCH_MS = DEFAULT_REWARD_PARAMS.epochMs;

export const nodeIdArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

/** A node id made from a number: sorted the same way as the number. */
export function idOf(i: number): string {
  return i.toString(16).padStart(64, '0');
}

export const verdictArb: fc.Arbitrary<VerdictFact> = fc.record({
  // Some before the epoch (history for the median), most inside it.
  time: fc.integer({ min: EPOCH_START - 5 * EPOCH_MS, max: EPOCH_START + EPOCH_MS - 1 }),
  outcome: fc.constantFrom('pass', 'pass', 'pass', 'pass', 'fail', 'missed'),
  gflops: fc.integer({ min: 0, max: 2_000_000 }),
});

export const jobArb: fc.Arbitrary<Omit<JobFact, 'id'>> = fc.record({
  fee: fc.integer({ min: 0, max: 50_000_000 }),
  audit: fc.constantFrom('none', 'none', 'passed', 'failed'),
});

export interface FactsOptions {
  /** Leave out failed and missed checks, failed audits and fraud. */
  clean?: boolean;
}

export function factsArb(options: FactsOptions = {}): fc.Arbitrary<Omit<NodeEpochFacts, 'node'>> {
  const clean = options.clean === true;
  return fc
    .record({
      coveredMs: fc.oneof(fc.constant(EPOCH_MS), fc.integer({ min: 0, max: EPOCH_MS })),
      busyFraction: fc.integer({ min: 0, max: 100 }),
      verdicts: fc.array(clean ? verdictArb.map((v) => ({ ...v, outcome: 'pass' as const })) : verdictArb, { minLength: 0, maxLength: 6 }),
      jobs: fc.array(clean ? jobArb.map((j) => ({ ...j, audit: 'none' as const })) : jobArb, { maxLength: 4 }),
      stake: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000_000_000 })),
      reputation: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: REP_ONE })),
      unvested: fc.integer({ min: 0, max: 10_000_000_000 }),
      fraud: clean ? fc.constant<FraudProof[]>([]) : fc.oneof({ weight: 9, arbitrary: fc.constant<FraudProof[]>([]) }, { weight: 1, arbitrary: fc.constant<FraudProof[]>([{ kind: 'equivocation', evidence: 'seq 7: two hashes' }]) }),
    })
    .map(({ busyFraction, jobs, ...f }) => ({
      ...f,
      busyMs: Math.floor((f.coveredMs * busyFraction) / 100),
      jobs: jobs.map((j, i) => ({ ...j, id: `job-${i}` })),
    }));
}

/** 1 to `max` nodes with distinct ids. */
export function nodesArb(max = 8, options: FactsOptions = {}): fc.Arbitrary<NodeEpochFacts[]> {
  return fc.uniqueArray(fc.tuple(nodeIdArb, factsArb(options)), { minLength: 1, maxLength: max, selector: ([id]) => id }).map((rows) => rows.map(([node, f]) => ({ node, ...f })));
}

export function epochOf(nodes: NodeEpochFacts[], carryIn = 0): EpochInput {
  return { epoch: { index: 100, startMs: EPOCH_START }, carryIn, nodes };
}

/** A healthy node: fully covered, one passing verdict of `gflops` this epoch. */
export function plainNode(id: string, gflops: number, extra: Partial<NodeEpochFacts> = {}): NodeEpochFacts {
  return {
    node: id,
    coveredMs: EPOCH_MS,
    busyMs: 0,
    verdicts: [{ time: EPOCH_START + 1000, outcome: 'pass', gflops }],
    jobs: [],
    stake: 0,
    reputation: REP_ONE,
    unvested: 0,
    fraud: [],
    ...extra,
  };
}

export function payoutOf(result: EpochResult, node: string): number {
  const p = result.nodes.find((n) => n.node === node);
  if (p === undefined) throw new Error(`no payout for ${node}`);
  return p.payout;
}

/** An exact decimal string from the engine ("123.456789") as an integer count of its last digit. */
export function fixed(text: string): bigint {
  const [whole = '0', frac = ''] = text.split('.');
  return BigInt(whole) * 10n ** BigInt(frac.length) + BigInt(frac === '' ? '0' : frac);
}

/** Fees the engine must count as accepted: jobs whose audit did not fail, of nodes without a fraud proof. */
export function acceptedFeesOf(nodes: readonly NodeEpochFacts[]): number {
  let sum = 0;
  for (const n of nodes) if (n.fraud.length === 0) for (const j of n.jobs) if (j.audit !== 'failed') sum += j.fee;
  return sum;
}

export const withStake = (kappa: number): RewardParams => ({ ...DEFAULT_REWARD_PARAMS, stakePerGflops: kappa });

/** A shuffle of xs driven by fast-check (for order-independence properties). */
export function shuffled<T>(xs: readonly T[], keys: readonly number[]): T[] {
  return xs
    .map((x, i) => ({ x, k: keys[i % Math.max(1, keys.length)] ?? 0, i }))
    .sort((a, b) => a.k - b.k || b.i - a.i)
    .map((e) => e.x);
}
