/**
 * The verified facts the engine rewards: one record per node and epoch, built
 * by the coordinator from what it checked itself (DESIGN §8). Plain JSON
 * values only (integers, strings, booleans, arrays), so facts can be stored,
 * replayed and audited. Nothing here is the node's own word: uptime is what
 * fresh-beacon attestations cover (uptime.ts), capacity comes from signed
 * PoT verdicts, work from accepted usage receipts.
 */
import { z } from 'zod';
import { CapanodeError } from '../../common/errors.js';
import { REP_ONE, type RewardParams } from './params.js';

const MAX = Number.MAX_SAFE_INTEGER;
const int = (min = 0, max = MAX) => z.number().int('must be an integer').min(min).max(max);

export const NodeIdSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (the node\'s public key)');

/** One PoT verdict the coordinator signed. A missed deadline is a failure without a slash. */
export const VerdictFactSchema = z.strictObject({
  /** When the coordinator signed the verdict (its own clock). */
  time: int(),
  outcome: z.enum(['pass', 'fail', 'missed']),
  /** Verified throughput; counts only for a pass (a fail or a miss counts as 0). */
  gflops: int(),
});

/** One job the coordinator assigned and the node reported done. */
export const JobFactSchema = z.strictObject({
  id: z.string().min(1).max(128),
  /** What the customer paid, in micro-credits. */
  fee: int(),
  /** Redundant execution: 'failed' means the result was wrong; the fee is refunded and the node penalised. */
  audit: z.enum(['none', 'passed', 'failed']),
});

/** Proof of malicious behaviour: two signed records for one seq, or a signed result proven forged. */
export const FraudProofSchema = z.strictObject({
  kind: z.enum(['equivocation', 'forged-result']),
  /** A reference to the evidence (e.g. the two record hashes); shown in explanations. */
  evidence: z.string().min(1).max(512),
});

export const NodeEpochFactsSchema = z.strictObject({
  node: NodeIdSchema,
  /** Milliseconds of the epoch covered by uptime attestations with fresh beacons (uptime.ts). */
  coveredMs: int(),
  /** Milliseconds of the epoch the node spent on assigned jobs, by the coordinator's clock (counted only while covered). */
  busyMs: int(),
  /** This epoch's verdicts and at least the `capacityWindow` before them, any order. */
  verdicts: z.array(VerdictFactSchema).max(10_000),
  /** Jobs whose usage receipts the coordinator accepted this epoch. */
  jobs: z.array(JobFactSchema).max(1_000_000),
  /** Bonded stake in micro-credits: the least the node held bonded during the epoch. */
  stake: int(),
  /** Reputation at the start of the epoch, in parts per 10^12; null for a node never seen before. */
  reputation: int(0, REP_ONE).nullable(),
  /** Earned credits not yet vested at the end of the epoch (vesting.ts): what proven fraud forfeits. */
  unvested: int(),
  fraud: z.array(FraudProofSchema).max(1_000),
});

export const EpochInputSchema = z.strictObject({
  epoch: z.strictObject({ index: int(), startMs: int() }),
  /** What no one earned in the previous epoch. */
  carryIn: int(),
  nodes: z.array(NodeEpochFactsSchema),
});

export type VerdictFact = z.infer<typeof VerdictFactSchema>;
export type JobFact = z.infer<typeof JobFactSchema>;
export type FraudProof = z.infer<typeof FraudProofSchema>;
export type NodeEpochFacts = z.infer<typeof NodeEpochFactsSchema>;
export type EpochInput = z.infer<typeof EpochInputSchema>;

/** Rules one schema cannot state: ranges that depend on the epoch length, unique ids, sums that must stay exact. */
function semanticProblems(input: EpochInput, params: RewardParams): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  let feeTotal = 0;
  let stakeTotal = 0;
  input.nodes.forEach((n, i) => {
    const at = `nodes[${i}] (${n.node.slice(0, 12)}…)`;
    if (seen.has(n.node)) problems.push(`${at}: node ${n.node} appears twice`);
    seen.add(n.node);
    if (n.coveredMs > params.epochMs) problems.push(`${at}.coveredMs: ${n.coveredMs} exceeds the epoch length ${params.epochMs}`);
    if (n.busyMs > params.epochMs) problems.push(`${at}.busyMs: ${n.busyMs} exceeds the epoch length ${params.epochMs}`);
    stakeTotal += n.stake;
    const jobIds = new Set<string>();
    for (const j of n.jobs) {
      if (jobIds.has(j.id)) problems.push(`${at}.jobs: job ${j.id} appears twice`);
      jobIds.add(j.id);
      feeTotal += j.fee;
    }
  });
  if (!Number.isSafeInteger(feeTotal + input.carryIn + params.emissionPerEpoch)) problems.push('the epoch\'s fees, carry and emission add up past 2^53 micro-credits');
  if (!Number.isSafeInteger(stakeTotal)) problems.push('the nodes\' stakes add up past 2^53 micro-credits');
  return problems;
}

/**
 * Checks an epoch's facts and returns them typed; every problem is listed in
 * one error ('reward-facts-invalid'), so the coordinator fixes them at once.
 */
export function parseEpochInput(raw: unknown, params: RewardParams): EpochInput {
  const parsed = EpochInputSchema.safeParse(raw);
  const problems = parsed.success
    ? semanticProblems(parsed.data, params)
    : parsed.error.issues.slice(0, 50).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
  if (!parsed.success || problems.length > 0) {
    throw new CapanodeError('reward-facts-invalid', `the epoch's facts are invalid:\n  ${problems.join('\n  ')}`, {
      hint: 'The coordinator built facts the reward engine cannot pay from; fix the facts named above (docs/INCENTIVES.md lists each field).',
      details: { problems },
    });
  }
  return parsed.data;
}
