/**
 * The `windowed` schedule: challenge rounds exactly as the reference
 * coordinator runs them. Reps, the window, the credit and the next basis
 * come from the coordinator's own functions (coordinator/pot/window.ts);
 * what is modelled here is only the node's side: when its commits reach the
 * coordinator. Commits arrive on a grid of 1/1024 ms after the round's
 * start (so the coordinator's clock arithmetic is exact;
 * test/coordinator/sim replays them through the real Challenger and gets
 * the same verdicts).
 *
 * An identity alone on its GPU commits as soon as it is done. Identities
 * sharing one GPU play the best answer found so far (docs/INCENTIVES.md §8):
 * do all they can inside the window, and time each commit so that the next
 * round asks exactly what the GPU can do in the whole window, margin
 * included: finishing one identity first makes it look like the whole GPU,
 * delaying a commit makes it look slower. What keeps this from paying is
 * window.ts: the growth cap, and what an overrun of the budget costs.
 */
import { inWindow, measuredGflops, nextBasis, potFlops, roundCredit, roundReps, type Basis, type Shown, type WindowSettings } from '../pot/window.js';
import type { Mechanics } from './mechanics.js';

export function windowSettings(m: Mechanics): WindowSettings {
  return { windowMs: m.potTargetMs, marginPercent: m.potMarginPercent };
}

export function rttUs(m: Mechanics): number {
  return Math.round(m.potRttMs * 1000);
}

/** Reps a round asks of an identity with this basis. */
export function askedReps(basis: Basis, m: Mechanics): number {
  return roundReps(m.potN, basis, windowSettings(m), rttUs(m));
}

/** One commit as the coordinator sees it: ms after the round's start (null: never), and the time the node claims. */
export interface SimCommit {
  arrivalMs: number | null;
  elapsedUs: number;
}

/** GPU time for this much work at this speed, ms. */
function computeMs(flops: number, gflops: number): number {
  return flops / (gflops * 1e6);
}

/** Commits reach the coordinator on a grid of 1/1024 ms: exact in its clock arithmetic. */
const TICKS_PER_MS = 1024;

/** When a commit whose work is done `doneMs` after the challenge arrived reaches the coordinator: one round trip in all. */
function arrival(doneMs: number, m: Mechanics): number {
  return Math.ceil((doneMs + m.potRttMs) * TICKS_PER_MS) / TICKS_PER_MS;
}

function commitAt(doneMs: number, ownMs: number, m: Mechanics): SimCommit {
  return { arrivalMs: arrival(doneMs, m), elapsedUs: Math.max(1, Math.round(ownMs * 1000)) };
}

/** What the coordinator measures from a commit that arrived. */
function shown(reps: number, commit: { arrivalMs: number; elapsedUs: number }, m: Mechanics): Shown {
  const rtt = rttUs(m);
  const coordinatorUs = commit.arrivalMs * 1000 - rtt;
  return { gflops: measuredGflops(m.potN, reps, commit.elapsedUs, coordinatorUs), coordinatorUs, rttUs: rtt };
}

/** An identity alone on its GPU (`gflops` as it computes: faster if it skips work). */
export function aloneCommit(reps: number, gflops: number, m: Mechanics): SimCommit {
  const own = computeMs(potFlops(m.potN, reps), gflops);
  return commitAt(own, own, m);
}

/** The subset of works (indices) with the most work that fits in `budget`; ties to the earlier subset. */
function bestFit(works: readonly number[], budget: number): number[] {
  let best: number[] = [];
  let bestWork = -1;
  for (let mask = 0; mask < 1 << works.length; mask++) {
    const set = works.map((_, i) => i).filter((i) => (mask >> i) & 1);
    const work = set.reduce((s, i) => s + (works[i] ?? 0), 0);
    if (work <= budget && work > bestWork) {
      best = set;
      bestWork = work;
    }
  }
  return best;
}

function permutations(items: readonly number[]): number[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]));
}

/**
 * Identities sharing one GPU of `gflops`: what fits in the window is done
 * one identity after another in the order that lets their next bases grow
 * most, what does not fit is done after it (credited 0, but measured); each
 * commit is timed so that the next bases, summed over the group, ask what
 * the GPU can do in the whole next window, margin included.
 */
export function sharedCommits(reps: readonly number[], bases: readonly Basis[], gflops: number, m: Mechanics): SimCommit[] {
  const ws = windowSettings(m);
  const rtt = rttUs(m);
  const own = reps.map((r) => computeMs(potFlops(m.potN, r), gflops));
  const budget = ws.windowMs - m.potRttMs;
  const onTime = bestFit(own, budget);
  const late = reps.map((_, i) => i).filter((i) => !onTime.includes(i));
  // For a commit order: each identity's earliest and latest commit, and the next basis each gives (the earliest the highest).
  const plan = (order: readonly number[]) => {
    let done = 0;
    return order.map((i) => {
      done += own[i] ?? 0;
      const r = reps[i] ?? 1;
      const basis = bases[i] ?? { gflops: 0, measured: false, overran: false };
      const elapsedUs = Math.max(1, Math.round((own[i] ?? 0) * 1000));
      const earliest = arrival(done, m);
      const latest = onTime.includes(i) ? ws.windowMs : m.potDeadlineMs;
      const hi = nextBasis(basis, shown(r, { arrivalMs: earliest, elapsedUs }, m), ws).gflops;
      const lo = Math.min(hi, nextBasis(basis, shown(r, { arrivalMs: latest, elapsedUs }, m), ws).gflops);
      return { i, flops: potFlops(m.potN, r), elapsedUs, earliest, latest, hi, lo };
    });
  };
  const total = (p: ReturnType<typeof plan>) => p.reduce((sum, x) => sum + x.hi, 0);
  let best = plan([...onTime, ...late]);
  for (const order of permutations(onTime)) {
    const candidate = plan([...order, ...late]);
    if (total(candidate) > total(best)) best = candidate;
  }
  // The sum of next bases whose asks fill the next window exactly.
  const target = (gflops * budget * 1000) / ((ws.windowMs * 1000 * (100 - ws.marginPercent)) / 100 - rtt);
  const hiSum = total(best);
  const loSum = best.reduce((sum, x) => sum + x.lo, 0);
  const f = hiSum <= target ? 1 : hiSum === loSum ? 0 : Math.max(0, (target - loSum) / (hiSum - loSum));
  const out: SimCommit[] = reps.map(() => ({ arrivalMs: null, elapsedUs: 1 }));
  for (const x of best) {
    const want = x.lo + f * (x.hi - x.lo);
    // The commit time whose measured speed is `want` (a capped basis is reached from any earlier time).
    const at = want >= x.hi ? x.earliest : Math.min(x.latest, Math.max(x.earliest, Math.ceil((x.flops / (want * 1e6) + rtt / 1000) * TICKS_PER_MS) / TICKS_PER_MS));
    out[x.i] = { arrivalMs: at, elapsedUs: x.elapsedUs };
  }
  return out;
}

/** A round's verdict on one commit, as the coordinator decides it, and the identity's next basis. */
export interface SimVerdict {
  outcome: 'pass' | 'fail' | 'missed';
  gflops: number;
  basis: Basis;
}

/**
 * The coordinator's verdict on a commit: none by the deadline is a miss; a
 * commit fails if the checks find what it skipped (`passes` false);
 * otherwise it passes, credited its work over the window if it came inside
 * it and 0 if after (still measuring the node).
 */
export function roundVerdict(reps: number, commit: SimCommit, basis: Basis, passes: boolean, m: Mechanics): SimVerdict {
  const ws = windowSettings(m);
  if (commit.arrivalMs === null || commit.arrivalMs > m.potDeadlineMs) return { outcome: 'missed', gflops: 0, basis: nextBasis(basis, null, ws) };
  if (!passes) return { outcome: 'fail', gflops: 0, basis };
  const next = nextBasis(basis, shown(reps, { arrivalMs: commit.arrivalMs, elapsedUs: commit.elapsedUs }, m), ws);
  return { outcome: 'pass', gflops: inWindow(commit.arrivalMs, ws) ? roundCredit(m.potN, reps, commit.elapsedUs, basis, next, ws, rttUs(m)) : 0, basis: next };
}
