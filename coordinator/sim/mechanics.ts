/**
 * How the coordinator's checks meet a node's conduct: the detection
 * mechanics each strategy runs into. Nothing here decides money; it produces
 * the facts (attestations, verdicts, audited jobs) the real reward engine
 * then pays from.
 */
import type { UptimeAttestation } from '../rewards/uptime.js';
import type { VerdictFact } from '../rewards/facts.js';
import type { Prng } from './prng.js';
import type { EpochConduct, IdentitySpec, PotConduct, Segment } from './types.js';

export interface Mechanics {
  heartbeatMs: number;
  beaconIntervalMs: number;
  /** k: rows checked per challenge. */
  potChecks: number;
  /** windowed: a round's window (the coordinator's potTargetSeconds); rounds and independent: challenges are sized so the claimed device needs this long. */
  potTargetMs: number;
  /** No commit by this long after the challenge is a miss (the coordinator's potDeadlineMs). */
  potDeadlineMs: number;
  /** windowed: PoT matrix size (the coordinator's potN). */
  potN: number;
  /** windowed: part of the window a challenge leaves free (potMarginPercent). */
  potMarginPercent: number;
  /** windowed: a node never measured is probed at a sixteenth of this (potGpuGflops). */
  potGpuGflops: number;
  /** windowed: round trip between node and coordinator, ms. */
  potRttMs: number;
  /** Share of accepted jobs re-run elsewhere and compared. */
  auditRate: number;
}

export const DEFAULT_MECHANICS: Mechanics = {
  heartbeatMs: 30_000,
  beaconIntervalMs: 60_000,
  potChecks: 16,
  potTargetMs: 5_000,
  potDeadlineMs: 120_000,
  potN: 4096,
  potMarginPercent: 10,
  potGpuGflops: 100_000,
  potRttMs: 80,
  auditRate: 0.1,
};

export function within(t: number, segments: readonly Segment[]): boolean {
  for (const [from, to] of segments) if (t >= from && t < to) return true;
  return false;
}

export function totalMs(segments: readonly Segment[]): number {
  return segments.reduce((s, [from, to]) => s + (to - from), 0);
}

/** [0, epochMs) minus one outage. */
export function withOutage(epochMs: number, from: number, to: number): Segment[] {
  const out: Segment[] = [];
  if (from > 0) out.push([0, from]);
  if (to < epochMs) out.push([to, epochMs]);
  return out;
}

const attestationCache = new Map<string, UptimeAttestation[]>();

/**
 * The uptime attestations an identity's link produces, in epoch-relative
 * time (coverage is shift-invariant): one per heartbeat while the link is up,
 * each citing the latest beacon and arriving 40 ms later. With `backfill`,
 * the gaps are papered over at reconnection with attestations citing the last
 * beacon seen before the gap: stale, so the coordinator credits none of them.
 */
export function attestations(conduct: EpochConduct, m: Mechanics): UptimeAttestation[] {
  const key = `${conduct.backfill ? 'b' : ''}${conduct.link.map(([a, b]) => `${a}-${b}`).join(',')}`;
  const cached = attestationCache.get(key);
  if (cached !== undefined) return cached;
  const out: UptimeAttestation[] = [];
  let lastBeacon: number | null = null;
  let lastEnd = 0;
  for (const [from, to] of conduct.link) {
    if (conduct.backfill && lastBeacon !== null) {
      for (let t = lastEnd + m.heartbeatMs; t <= from; t += m.heartbeatMs) out.push({ from: t - m.heartbeatMs, to: t, beaconTime: lastBeacon, receivedAt: from + 40 });
    }
    // A link up at the epoch's start was up before it: the heartbeat at 0 arrives 40 ms into the epoch.
    for (let t = from === 0 ? 0 : from + m.heartbeatMs; t <= to; t += m.heartbeatMs) {
      // The current beacon: the latest one made at or before t (sent on welcome and then as each is made).
      const beacon = Math.floor(t / m.beaconIntervalMs) * m.beaconIntervalMs;
      out.push({ from: t - m.heartbeatMs, to: t, beaconTime: beacon, receivedAt: t + 40 });
      lastBeacon = beacon;
    }
    lastEnd = to;
  }
  if (attestationCache.size > 10_000) attestationCache.clear();
  attestationCache.set(key, out);
  return out;
}

export interface ChallengeInput {
  identity: IdentitySpec;
  conduct: EpochConduct;
  /** Epoch-relative time of the challenge. */
  at: number;
  /** GFLOP/s its computation got from its GPU group (all of it when challenged alone). */
  available: number;
  /** Absolute time stamp for the verdict. */
  time: number;
}

/** How a node's PoT conduct shows: how much faster it looks, and the chance the k checks miss what it skipped. */
export function potEffect(pot: PotConduct, m: Mechanics): { speedup: number; passProbability: number } {
  switch (pot.kind) {
    case 'replay':
      return { speedup: 1, passProbability: 0 };
    case 'skip':
      return { speedup: 1 / (1 - pot.fraction), passProbability: (1 - pot.fraction) ** m.potChecks };
    case 'downgrade':
      return { speedup: 1 / (1 - pot.fraction / 2), passProbability: (1 - pot.fraction) ** m.potChecks };
    case 'honest':
      return { speedup: 1, passProbability: 1 };
  }
}

/** Whether a node can compute a challenge that arrives at `at`: its link is up, and its GPU serves the network or is taken back for it. */
export function canAnswer(conduct: EpochConduct, at: number): boolean {
  return within(at, conduct.link) && (conduct.answersWhileAway || within(at, conduct.gpu));
}

/**
 * One challenge's verdict under the `rounds` and `independent` schedules.
 * Its throughput is what the identity's computation got from the GPU (see
 * `shares` for identities sharing one); a node that skipped or downgraded
 * part of the work looks faster, and passes only if none of the k checked
 * rows falls in that part.
 */
export function challenge(input: ChallengeInput, m: Mechanics, rng: Prng): VerdictFact {
  const { identity, conduct, at, available, time } = input;
  const missed: VerdictFact = { time, outcome: 'missed', gflops: 0 };
  const failed: VerdictFact = { time, outcome: 'fail', gflops: 0 };
  if (!canAnswer(conduct, at)) return missed;
  if (conduct.pot.kind === 'replay') return failed;
  const { speedup, passProbability } = potEffect(conduct.pot, m);
  const shown = available * speedup;
  // Sized for the claimed device: a much slower one cannot commit before the deadline.
  if ((identity.claimedGflops * m.potTargetMs) / shown > m.potDeadlineMs) return missed;
  if (!rng.chance(passProbability)) return failed;
  return { time, outcome: 'pass', gflops: Math.floor(shown) };
}

export type AuditOutcome = 'none' | 'passed' | 'failed';

/** Redundant execution of a sample of jobs: a forged result fails when audited. */
export function audit(forged: boolean, m: Mechanics, rng: Prng): AuditOutcome {
  if (!rng.chance(m.auditRate)) return 'none';
  return forged ? 'failed' : 'passed';
}

/**
 * How challenges are issued and credited: `windowed` is the reference
 * coordinator (window-round.ts); `rounds` and `independent` are the
 * alternatives it is compared with (`shares`).
 */
export type ChallengeSchedule = 'independent' | 'rounds' | 'windowed';

export interface Challenged {
  /** Work the challenge asks for, sized for the claimed device: GFLOP. */
  work: number;
  /** Epoch-relative instant. */
  at: number;
}

/**
 * What each of several identities sharing one GPU (`groupGflops`) shows when
 * challenged, under the two schedules the coordinator does not use:
 * - independent: each node at its own random instants; identities share the
 *   GPU only when their challenges overlap, so each usually shows all of it.
 * - rounds: every node at the same instants, throughput = work / elapsed (DESIGN §6).
 *   The sharer's best answer is to run them one after another, rotating the
 *   order each round: the j-th to finish shows work_j / (sum of the works up to j).
 */
export function shares(groupGflops: number, challenged: readonly Challenged[], schedule: Exclude<ChallengeSchedule, 'windowed'>, round: number, m: Mechanics): number[] {
  const n = challenged.length;
  if (schedule === 'independent') {
    return challenged.map((c) => groupGflops / challenged.filter((d) => Math.abs(d.at - c.at) < m.potTargetMs).length);
  }
  if (n === 1) return challenged.map(() => groupGflops);
  const out = new Array<number>(n).fill(0);
  let done = 0;
  for (let k = 0; k < n; k++) {
    const j = (k + round) % n;
    const c = challenged[j];
    if (c === undefined) continue;
    done += c.work;
    out[j] = (groupGflops * c.work) / done;
  }
  return out;
}
