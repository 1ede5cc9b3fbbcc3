/**
 * How a challenge round sizes and credits each node's challenge
 * (docs/INCENTIVES.md §8). Pure: the coordinator's Challenger and the
 * simulator (coordinator/sim) call the same functions, so they credit the
 * same gflops for the same commit.
 *
 * A round gives every node the same window W on the coordinator's clock,
 * from sending the challenge to receiving the commit. A commit inside it is
 * credited with the work it proves divided by W, never by the time the node
 * took: identities sharing one GPU must do all their work inside the same
 * W, so together they are credited at most what the GPU did in it. The
 * round trip is inside the window too (no deduction a node could inflate
 * by answering pings late). A commit after W proves no work inside it:
 * credited 0 (a correct one still passes; see challenger.ts).
 *
 * The work is fixed when the challenge is sent (the node commits to every
 * rep), so it is sized to fill (100 - margin)% of W, less the node's round
 * trip, at the node's basis: the speed it last showed on the coordinator's
 * clock. The margin absorbs run-to-run jitter; honest nodes are all
 * credited about (100 - margin)% of their speed, which changes no share.
 * The margin is the one thing identities sharing a GPU can use that an
 * honest node leaves idle: whichever of them commits after the others has
 * done its work in their margin, after the budget it was sized for. So:
 * - the basis rises by at most half the margin per round. Otherwise the
 *   identities would take turns finishing first (the first to finish looks
 *   like the whole GPU, so its next challenge is sized for all of it) and
 *   keep their challenges filling the whole window, margin included:
 *   1/(1 - margin) of an honest node's credit, for ever;
 * - a commit after its budget shows (budget / its time)^10 less. An honest
 *   node sized right overruns only by its jitter (0.5% costs it about 5%
 *   for a round); an identity that commits after another has overrun by
 *   that other's whole share. Identities taking turns at being last must
 *   win back (1 + overrun)^11 through the growth cap in the rounds they are
 *   not, which holds the overrun to about ln(1.05)·(n - 1)/11 for n of
 *   them, less than the credit the last one loses (next rule) for the 2 to
 *   8 identities per GPU docs/INCENTIVES.md §8 reports on;
 * - a round credits at most what both the basis it was sized with and the
 *   next one ask in the budget: the overrun costs the round it happens in,
 *   not only the next, and a challenge of one rep (the least there is) asked
 *   of a basis too small for one earns what the basis asks, not the rep;
 * - a second overrun in a row (a late commit or none included) also cuts
 *   the basis by a fifth: an identity squeezed in every round shrinks away
 *   geometrically rather than harmonically, which would leave it a small
 *   credit for ever. An honest node overruns by chance, and its basis then
 *   falls below what it showed, so two in a row take a GPU that keeps
 *   slowing.
 *
 * A node never measured starts from a probe, a sixteenth of its class's
 * expected speed, and climbs by up to 16 times per round (each step at most
 * what it showed) until one commit has taken at least an eighth of the
 * window, long enough for a round trip's jitter not to matter: from then on
 * it is measured, and a node never goes back (its last verdict's figure is
 * where it starts after a reconnect, unless that is no more than a probe
 * would show).
 */
import { POT_MAX_REPS } from '../../proofs/pot.js';

export interface WindowSettings {
  /** W: ms from sending a round's challenge to receiving its commit. */
  windowMs: number;
  /** Part of the window a challenge leaves free, percent (1-50). */
  marginPercent: number;
}

/** The speed a node's next round challenge is sized for (GFLOP/s). */
export interface Basis {
  gflops: number;
  /** False until a commit has measured the node: the first measurement is taken in full. */
  measured: boolean;
  /** The last round's commit came after the budget it was sized for, or not at all. */
  overran: boolean;
}

/** A node never measured is first asked for this fraction of its class's expected speed, and climbs by at most this factor per round. */
export const PROBE_DIVISOR = 16;
/** A commit measures a node once it took at least this fraction of the window on the coordinator's clock. */
export const PRECISE_FRACTION = 1 / 8;

export function potFlops(n: number, reps: number): number {
  return 2 * n ** 3 * reps;
}

/** The basis a connecting node starts from: its last verdict's figure, or a probe when it has shown no more than one. */
export function initialBasis(lastGflops: number | null, classGflops: number): Basis {
  const probe = classGflops / PROBE_DIVISOR;
  return lastGflops !== null && lastGflops > probe ? { gflops: lastGflops, measured: true, overran: false } : { gflops: probe, measured: false, overran: false };
}

/** The node's time a round's challenge is sized for: (100 - margin)% of the window less its round trip, µs. */
export function budgetUs(s: WindowSettings, rttUs: number): number {
  return (s.windowMs * 1000 * (100 - s.marginPercent)) / 100 - Math.max(0, rttUs);
}

/** Reps so the basis needs the budget; at least 1. */
export function roundReps(n: number, basis: Basis, s: WindowSettings, rttUs: number): number {
  const reps = Math.floor((basis.gflops * 1000 * budgetUs(s, rttUs)) / potFlops(n, 1));
  return Math.min(POT_MAX_REPS, Math.max(1, reps));
}

/** Whether a commit that reached the coordinator `arrivedAfterMs` after the challenge left is inside the window. */
export function inWindow(arrivedAfterMs: number, s: WindowSettings): boolean {
  return arrivedAfterMs <= s.windowMs;
}

/** A commit inside the window: its work over the window (or over the node's own claimed time, if longer). */
export function windowGflops(n: number, reps: number, elapsedUs: number, s: WindowSettings): number {
  return Math.floor(potFlops(n, reps) / Math.max(elapsedUs, s.windowMs * 1000) / 1000);
}

/**
 * A round's credit for a commit inside the window (windowGflops), but at most
 * what the basis it was sized with, and the next basis it leads to, ask of
 * the node in the budget.
 */
export function roundCredit(n: number, reps: number, elapsedUs: number, sized: Basis, next: Basis, s: WindowSettings, rttUs: number): number {
  const asked = (Math.min(sized.gflops, next.gflops) * budgetUs(s, rttUs)) / (s.windowMs * 1000);
  return Math.min(windowGflops(n, reps, elapsedUs, s), Math.floor(asked));
}

/** The speed a commit showed: its work over the longer of the node's claim and the coordinator's time less the round trip. */
export function measuredGflops(n: number, reps: number, elapsedUs: number, coordinatorUs: number): number {
  return potFlops(n, reps) / Math.max(elapsedUs, coordinatorUs, 1) / 1000;
}

/** What a commit showed: measuredGflops, the coordinator's time for it (µs, less the round trip), and the round trip it was sized with. */
export interface Shown {
  gflops: number;
  coordinatorUs: number;
  /** The round trip its challenge was sized with (µs). */
  rttUs: number;
}

/**
 * The next basis: what a commit showed, capped (1 + margin/2 times the last
 * once measured, 16 times before, 4/5 of the last after a second overrun in
 * a row), or half the last when nothing came.
 */
export function nextBasis(prev: Basis, shown: Shown | null, s: WindowSettings): Basis {
  if (shown === null) return { gflops: prev.gflops / 2, measured: prev.measured, overran: true };
  const overran = shown.coordinatorUs > budgetUs(s, shown.rttUs);
  const again = overran && prev.overran ? prev.gflops * REPEATED_OVERRUN_KEEPS : Infinity;
  if (!prev.measured) return { gflops: Math.min(overBudget(shown, s), prev.gflops * PROBE_DIVISOR, again), measured: shown.coordinatorUs >= s.windowMs * 1000 * PRECISE_FRACTION, overran };
  return { gflops: Math.min(overBudget(shown, s), (prev.gflops * (200 + s.marginPercent)) / 200, again), measured: true, overran };
}

/** What a commit inside the window shows, less (budget / time)^10 when it took more than the budget it was sized for. */
function overBudget(shown: Shown, s: WindowSettings): number {
  const budget = budgetUs(s, shown.rttUs);
  if (shown.coordinatorUs <= budget || shown.coordinatorUs > s.windowMs * 1000) return shown.gflops;
  return shown.gflops * (budget / shown.coordinatorUs) ** OVER_BUDGET_POWER;
}

const OVER_BUDGET_POWER = 10;
/** Part of the basis a second overrun in a row leaves, at most. */
const REPEATED_OVERRUN_KEEPS = 4 / 5;
