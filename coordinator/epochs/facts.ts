/**
 * An epoch's facts (docs/INCENTIVES.md §4), gathered from what the store
 * holds and only from what the coordinator checked itself:
 *
 * - uptime: uptime records received in [start, end + close delay) whose
 *   beacon was fresh on arrival: the cited beacon was the latest or the one
 *   before it when the record arrived (at most one newer beacon issued), and
 *   at most `beaconFreshMs` old. Each is credited on the coordinator's clock
 *   by coveredMs (rewards/uptime.ts), clipped to the epoch;
 * - capacity: signed verdicts of the epoch and the `capacityWindow` before it;
 *   a missed deadline is a miss, any other failure a fail;
 * - stake: credits made before the epoch, less what earlier epochs slashed,
 *   and the least balance during the epoch (flash stake earns nothing);
 * - reputation: what the previous epoch left (null for a new node);
 * - unvested: earlier epochs' earnings not vested at the epoch's end;
 * - fraud: equivocations detected during the epoch.
 *
 * Every node seen before the epoch ended takes part, except one banned
 * before it began. Nothing read here can change once the epoch is closable
 * (every source is stamped before its end plus the close delay), so a second
 * close gathers the same facts.
 * - work: jobs credited during the epoch (usage accepted, and for a
 *   redundant job its audit decided; a disputed one is not credited), each
 *   with its fee and audit; busy time is each one's span from assignment to
 *   its usage's judgement, clipped to the epoch (the coordinator's clock).
 */
import type { EpochInput, FraudProof, JobFact, NodeEpochFacts, VerdictFact } from '../rewards/facts.js';
import type { RewardParams } from '../rewards/params.js';
import { sortVerdicts } from '../rewards/capacity.js';
import { coveredMs, type UptimeAttestation } from '../rewards/uptime.js';
import { vestedAmount } from '../rewards/vesting.js';
import type { StakeCredit, UptimeRecordFact, VerdictRecordFact } from '../store/ledger-types.js';
import type { JobRow } from '../store/job-types.js';
import type { Store } from '../store/types.js';
import type { VestingTerms } from '../ledger/terms.js';
import type { EpochWindow } from './schedule.js';

/** A verdict whose reason starts with this is a missed deadline: a failure without a slash. */
const MISSED_PREFIX = 'deadline:';

/** The beacon an uptime record cites, if it was fresh when the record arrived; its time then goes to the engine (which checks the age). */
export function freshBeaconTime(r: UptimeRecordFact): number | null {
  return r.beaconTime !== null && r.beaconsAfter !== null && r.beaconsAfter <= 1 ? r.beaconTime : null;
}

export function verdictFact(v: VerdictRecordFact): VerdictFact {
  if (v.ok) return { time: v.at, outcome: 'pass', gflops: v.gflops };
  return { time: v.at, outcome: v.reason?.startsWith(MISSED_PREFIX) === true ? 'missed' : 'fail', gflops: 0 };
}

/** The least bonded balance during [startMs, endMs): credits before the start less earlier slashes, then each credit in the epoch. */
export function epochStake(credits: readonly StakeCredit[], slashedBefore: number, startMs: number, endMs: number): number {
  let balance = -slashedBefore;
  for (const c of credits) if (c.at < startMs) balance += c.amount;
  let least = balance;
  for (const c of credits) {
    if (c.at < startMs || c.at >= endMs) continue;
    balance += c.amount;
    least = Math.min(least, balance);
  }
  return Math.max(0, least);
}

function group<T extends { node: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.node);
    if (list === undefined) out.set(r.node, [r]);
    else list.push(r);
  }
  return out;
}

export function jobFact(j: JobRow): JobFact {
  return { id: j.id, fee: j.fee, audit: j.audit === 'passed' || j.audit === 'failed' ? j.audit : 'none' };
}

/** Time spent on jobs inside [startMs, endMs): each job from its assignment to its usage's judgement. */
export function busyMs(jobs: readonly JobRow[], startMs: number, endMs: number): number {
  let total = 0;
  for (const j of jobs) {
    if (j.assignedAt === null || j.usageAt === null) continue;
    total += Math.max(0, Math.min(endMs, j.usageAt) - Math.max(startMs, j.assignedAt));
  }
  return total;
}

export interface GatherOptions {
  window: EpochWindow;
  params: RewardParams;
  /** The previous epoch's carry-out (0 for the first epoch). */
  carryIn: number;
  /** The vesting terms an earlier epoch's earnings were granted under. */
  termsOf: (epoch: number) => VestingTerms;
  /** The longest vestingMs of any of those terms. */
  longestVestingMs: number;
}

export async function gatherEpochInput(store: Store, { window: w, params, carryIn, termsOf, longestVestingMs }: GatherOptions): Promise<EpochInput> {
  const nodes = (await store.epochNodes(w.endMs)).filter((n) => n.bannedAt === null || n.bannedAt >= w.startMs);
  const uptime = group(await store.uptimeFacts(w.startMs, w.untilMs));
  const verdicts = group(await store.verdictFacts(w.startMs, w.endMs, params.capacityWindow));
  const fraud = group(await store.equivocationFacts(w.startMs, w.endMs));
  const credits = group(await store.stakeCredits(w.endMs));
  const slashed = await store.slashedTotals(w.index);
  const work = group((await store.creditedJobs(w.startMs, w.endMs)).filter((j): j is JobRow & { node: string } => j.node !== null));
  // Earlier epochs still vesting at this epoch's end (older ones have vested in full), and the previous one for reputation.
  const vestingEpochs = Math.ceil(longestVestingMs / params.epochMs) + 1;
  const earlier = w.index === 0 ? [] : await store.ledgerEntries({ fromEpoch: Math.max(0, w.index - vestingEpochs), toEpoch: w.index - 1 });
  const grants = group(earlier);
  const reputation = new Map(earlier.filter((e) => e.epoch === w.index - 1).map((e) => [e.node, e.reputationAfter]));

  const facts: NodeEpochFacts[] = nodes.map((n) => {
    const attestations: UptimeAttestation[] = (uptime.get(n.id) ?? []).map((r) => ({ from: r.from, to: r.to, beaconTime: freshBeaconTime(r), receivedAt: r.receivedAt }));
    const proofs: FraudProof[] = (fraud.get(n.id) ?? [])
      .map((e) => ({ kind: 'equivocation' as const, evidence: `two records for seq ${e.seq}: ${e.firstHash} and ${e.secondHash}` }))
      .sort((a, b) => (a.evidence < b.evidence ? -1 : a.evidence > b.evidence ? 1 : 0));
    return {
      node: n.id,
      coveredMs: coveredMs(attestations, w.startMs, params),
      busyMs: Math.min(params.epochMs, busyMs(work.get(n.id) ?? [], w.startMs, w.endMs)),
      verdicts: sortVerdicts((verdicts.get(n.id) ?? []).map(verdictFact)),
      jobs: (work.get(n.id) ?? []).map(jobFact),
      stake: epochStake(credits.get(n.id) ?? [], slashed.get(n.id) ?? 0, w.startMs, w.endMs),
      reputation: reputation.get(n.id) ?? null,
      unvested: (grants.get(n.id) ?? []).reduce((sum, g) => sum + g.earned - vestedAmount({ amount: g.earned, startMs: g.endMs }, w.endMs, termsOf(g.epoch)), 0),
      fraud: proofs,
    };
  });
  return { epoch: { index: w.index, startMs: w.startMs }, carryIn, nodes: facts };
}
