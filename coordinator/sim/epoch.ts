/**
 * One simulated epoch up to the reward engine: the coordinator's challenges,
 * its job assignments and audits, and the facts it builds from them.
 */
import { sortVerdicts } from '../rewards/capacity.js';
import type { FraudProof, JobFact, NodeEpochFacts, VerdictFact } from '../rewards/facts.js';
import type { RewardParams } from '../rewards/params.js';
import { coveredMs } from '../rewards/uptime.js';
import { unvestedTotal, type Grant } from '../rewards/vesting.js';
import { DEVICE_CLASSES } from './hardware.js';
import type { Basis } from '../pot/window.js';
import { attestations, audit, canAnswer, challenge, potEffect, shares, within, type ChallengeSchedule, type Mechanics } from './mechanics.js';
import type { Prng } from './prng.js';
import type { EpochConduct, IdentitySpec, Operator } from './types.js';
import { aloneCommit, askedReps, roundVerdict, sharedCommits, type SimCommit } from './window-round.js';

/** One identity as the coordinator's ledger knows it. */
export interface Account {
  id: string;
  op: Operator;
  spec: IdentitySpec;
  stake: number;
  reputation: number | null;
  verdicts: VerdictFact[];
  grants: Grant[];
  banned: boolean;
  /** V as the coordinator last computed it: weights job assignment. */
  capacity: number;
  /** windowed: the speed the coordinator sizes this identity's next round challenge for. */
  basis: Basis;
}

/** The simulated coordinator's settings and its random stream. */
export interface World {
  params: RewardParams;
  m: Mechanics;
  schedule: ChallengeSchedule;
  challengesPerEpoch: number;
  jobsPerEpoch: number;
  rng: Prng;
}

/** What one identity collects during an epoch. */
export interface Scratch {
  verdicts: VerdictFact[];
  jobs: JobFact[];
  busyMs: number;
  fraud: FraudProof[];
  /** Fees of customer jobs it really ran. */
  genuineFees: number;
  /** Fees it paid for jobs it bought from itself. */
  selfDealt: number;
}

export interface EpochState {
  index: number;
  startMs: number;
  /** Per operator index. */
  conducts: EpochConduct[];
  live: Account[];
  scratch: Map<Account, Scratch>;
}

export function newScratch(): Scratch {
  return { verdicts: [], jobs: [], busyMs: 0, fraud: [], genuineFees: 0, selfDealt: 0 };
}

const groupKey = (a: Account): string => `${a.op.index}/${a.spec.group}`;

/**
 * One windowed round for the identities of one GPU group: those online are
 * challenged (an identity offline waits for the next round), each sized by
 * its basis; they commit as window-round.ts models, and the coordinator's
 * rules give each verdict and next basis.
 */
function windowedRound(w: World, mates: readonly Account[], conduct: EpochConduct, at: number, time: number, epoch: EpochState | null): void {
  if (epoch !== null && !within(at, conduct.link)) return;
  const first = mates[0];
  if (first === undefined) return;
  const reps = mates.map((a) => askedReps(a.basis, w.m));
  const { speedup, passProbability } = potEffect(conduct.pot, w.m);
  let commits: SimCommit[];
  if (epoch !== null && !canAnswer(conduct, at)) commits = mates.map(() => ({ arrivalMs: null, elapsedUs: 1 }));
  // A replayed root needs no work: it arrives at once and fails its checks.
  else if (conduct.pot.kind === 'replay') commits = mates.map(() => ({ arrivalMs: Math.ceil(w.m.potRttMs), elapsedUs: 1 }));
  else if (mates.length === 1) commits = [aloneCommit(reps[0] ?? 1, first.spec.groupGflops * speedup, w.m)];
  else commits = sharedCommits(reps, mates.map((a) => a.basis), first.spec.groupGflops * speedup, w.m);
  mates.forEach((a, i) => {
    const commit = commits[i] ?? { arrivalMs: null, elapsedUs: 1 };
    const passes = epoch === null || passProbability >= 1 || (passProbability > 0 && a.op.rng.chance(passProbability));
    const v = roundVerdict(reps[i] ?? 1, commit, a.basis, passes, w.m);
    a.basis = v.basis;
    epoch?.scratch.get(a)?.verdicts.push({ time, outcome: v.outcome, gflops: v.gflops });
  });
}

function groupsOf(accounts: readonly Account[]): Account[][] {
  const groups = new Map<string, Account[]>();
  for (const a of accounts) {
    const g = groups.get(groupKey(a));
    if (g === undefined) groups.set(groupKey(a), [a]);
    else g.push(a);
  }
  return [...groups.values()];
}

/**
 * windowed: the run starts on a network that has been running, where every
 * identity has had its first rounds (from the probe, sized below its class,
 * up to the first commit that measures it; the coordinator credits their
 * small work over the window): each basis comes from them, their verdicts
 * are history. Otherwise every node's first epoch would be paid on probe
 * verdicts of the same size whatever its GPU, which a run that starts all
 * nodes at once would overstate.
 */
export function firstRounds(w: World, accounts: readonly Account[], conducts: readonly EpochConduct[]): void {
  if (w.schedule !== 'windowed') return;
  for (const mates of groupsOf(accounts)) {
    const conduct = mates[0] === undefined ? undefined : conducts[mates[0].op.index];
    for (let r = 0; conduct !== undefined && r < MAX_FIRST_ROUNDS && mates.some((a) => !a.basis.measured); r++) windowedRound(w, mates, conduct, 0, 0, null);
  }
}

/** A probe climbs 16 times per round: from a sixteenth of 100 TFLOP/s to 25 PFLOP/s in four. */
const MAX_FIRST_ROUNDS = 6;

/** PoT challenges: the instants (common to all nodes unless independent), then what each identity sharing a GPU group shows. */
export function runChallenges(w: World, epoch: EpochState): void {
  const epochMs = w.params.epochMs;
  const draw = (): number[] => Array.from({ length: w.challengesPerEpoch }, () => w.rng.int(0, epochMs - 1));
  const rounds = draw();
  for (const mates of groupsOf(epoch.live)) {
    const first = mates[0];
    const conduct = first === undefined ? undefined : epoch.conducts[first.op.index];
    if (first === undefined || conduct === undefined) continue;
    if (w.schedule === 'windowed') {
      for (const at of rounds) windowedRound(w, mates, conduct, at, epoch.startMs + at, epoch);
      continue;
    }
    const legacy = w.schedule;
    const instants = mates.map(() => (w.schedule === 'independent' ? draw() : rounds));
    for (let r = 0; r < w.challengesPerEpoch; r++) {
      const challenged = mates.map((a, i) => ({ work: (a.spec.claimedGflops * w.m.potTargetMs) / 1000, at: instants[i]?.[r] ?? 0 }));
      const shown = shares(first.spec.groupGflops, challenged, legacy, epoch.index * w.challengesPerEpoch + r, w.m);
      mates.forEach((a, i) => {
        const at = challenged[i]?.at ?? 0;
        epoch.scratch.get(a)?.verdicts.push(challenge({ identity: a.spec, conduct, at, available: shown[i] ?? 0, time: epoch.startMs + at }, w.m, a.op.rng));
      });
    }
  }
}

/** Picks an index with probability proportional to its weight (cumulative sums, binary search). */
function weightedIndex(cumulative: Float64Array, x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] ?? 0) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function groupGpus(a: Account): number {
  return Math.max(1, Math.round(a.spec.groupGflops / DEVICE_CLASSES[a.op.hardware.gpuClass]));
}

/**
 * Customer jobs, assigned in proportion to verified capacity: run if the GPU
 * serves the network then and has time left, forged by a fraudster (and
 * caught when audited), lost if the link is down. Then the jobs wash traders
 * buy from themselves.
 */
export function runJobs(w: World, epoch: EpochState): void {
  const epochMs = w.params.epochMs;
  const weighted = epoch.live.filter((a) => a.capacity > 0);
  const cumulative = new Float64Array(weighted.length);
  let sum = 0;
  weighted.forEach((a, i) => (cumulative[i] = sum += a.capacity));
  const groupBusy = new Map<string, number>();
  for (let j = 0; j < w.jobsPerEpoch && weighted.length > 0; j++) {
    const at = w.rng.int(0, epochMs - 1);
    const duration = w.rng.int(2, 20) * 60_000;
    const fee = w.rng.int(50_000, 500_000);
    const a = weighted[weightedIndex(cumulative, w.rng.float() * sum)];
    const conduct = a === undefined ? undefined : epoch.conducts[a.op.index];
    const s = a === undefined ? undefined : epoch.scratch.get(a);
    if (a === undefined || conduct === undefined || s === undefined || !within(at, conduct.link)) continue;
    const id = `e${epoch.index}-j${j}`;
    if (conduct.forgeJobs) {
      const outcome = audit(true, w.m, w.rng);
      s.jobs.push({ id, fee, audit: outcome });
      if (outcome === 'failed') s.fraud.push({ kind: 'forged-result', evidence: `job ${id}: output differs from the audit's re-run` });
      s.busyMs += duration;
      continue;
    }
    const busy = groupBusy.get(groupKey(a)) ?? 0;
    if (!within(at, conduct.gpu) || busy + duration > epochMs * groupGpus(a)) continue; // not done: no fee
    groupBusy.set(groupKey(a), busy + duration);
    s.jobs.push({ id, fee, audit: audit(false, w.m, w.rng) });
    s.busyMs += duration;
    s.genuineFees += fee;
  }
  // Wash trading: jobs it buys from itself and runs honestly (they pass audits), as long as it likes.
  for (const a of epoch.live) {
    const conduct = epoch.conducts[a.op.index];
    const s = epoch.scratch.get(a);
    if (conduct === undefined || s === undefined || conduct.selfDealFees === 0) continue;
    const fee = Math.floor(conduct.selfDealFees / a.op.identities.length);
    s.jobs.push({ id: `e${epoch.index}-self-${a.id.slice(0, 8)}`, fee, audit: audit(false, w.m, w.rng) });
    s.busyMs += epochMs / 2;
    s.selfDealt = fee;
  }
}

/** The epoch's facts, as the coordinator builds them for the reward engine. */
export function epochFacts(w: World, epoch: EpochState): NodeEpochFacts[] {
  const nodes: NodeEpochFacts[] = [];
  for (const a of epoch.live) {
    const conduct = epoch.conducts[a.op.index];
    const s = epoch.scratch.get(a);
    if (conduct === undefined || s === undefined) continue;
    a.verdicts = sortVerdicts([...a.verdicts, ...s.verdicts]).slice(-(w.params.capacityWindow + w.challengesPerEpoch));
    nodes.push({
      node: a.id,
      // Attestations are made in epoch-relative time; coverage does not depend on where the epoch starts.
      coveredMs: coveredMs(attestations(conduct, w.m), 0, w.params),
      busyMs: Math.min(s.busyMs, w.params.epochMs),
      verdicts: a.verdicts,
      jobs: s.jobs,
      stake: a.stake,
      reputation: a.reputation,
      // What proven fraud forfeits; the engine reads it only under a fraud proof, so the simulator
      // (unlike a ledger, which keeps it for every node) works it out only then.
      unvested: s.fraud.length > 0 ? unvestedTotal(a.grants, epoch.startMs + w.params.epochMs, w.params) : 0,
      fraud: s.fraud,
    });
  }
  return nodes;
}
