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
 * - a commit after its budget (an overrun) shows (budget / its time)^2
 *   less, for the next basis, and its round is credited (budget / its
 *   time)^10 less. An honest node sized right overruns only by its jitter
 *   (0.5% costs it 5% of one round's credit; V is a median of 5, so an
 *   overrun now and then does not move it); an identity that commits after
 *   another has overrun by that other's whole share, and keeping the group
 *   above the GPU takes an overrun in every round, so what the margin
 *   brings the group is less than what the last one's credit loses;
 * - a round credits at most what both the basis it was sized with and the
 *   next one ask in the budget, and a challenge of one rep (the least there
 *   is) asked of a basis too small for one earns what the basis asks, not
 *   the rep;
 * - a second overrun in a row (a late commit or none included) also cuts
 *   the basis by a fifth: an identity squeezed in every round shrinks away
 *   geometrically rather than harmonically, which would leave it a small
 *   credit for ever. An honest node overruns by chance, and its basis then
 *   falls below what it showed, so two in a row take a GPU that keeps
 *   slowing.
 *
 * A node never measured starts from a probe, a sixteenth of its class's
 * expected speed, and climbs by up to 16 times per round (each step at most
 * what it showed, credited nothing) until one commit has taken at least an
 * eighth of the window, long enough for a round trip's jitter not to
 * matter: from then on it is measured. After a reconnect it starts from its
 * last verdict's figure (initialBasis).
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

/**
 * The basis a connecting node starts from: its last verdict's figure,
 * measured when that is more than a probe would show; climbing again from
 * it when less (a probe's own verdict, or an identity shrunk by overruns,
 * which must not be handed a probe's size back by reconnecting); from a
 * probe when there is none (never verified, failed or late).
 */
export function initialBasis(lastGflops: number | null, classGflops: number): Basis {
  const probe = classGflops / PROBE_DIVISOR;
  if (lastGflops === null || lastGflops <= 0) return { gflops: probe, measured: false, overran: false };
  return { gflops: lastGflops, measured: lastGflops > probe, overran: false };
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
 * the node in the budget, and (budget / its time)^10 of that when it came
 * after the budget; nothing for a challenge sized for a basis not yet
 * measured (a probe or a step of the climb), which only measures the node:
 * a node that went back to a probe, by a late commit and a reconnect, would
 * otherwise be paid each time for squeezing a probe into another's margin.
 */
export function roundCredit(n: number, reps: number, elapsedUs: number, shown: Shown, sized: Basis, next: Basis, s: WindowSettings): number {
  if (!sized.measured) return 0;
  const budget = budgetUs(s, shown.rttUs);
  const overran = shown.coordinatorUs > budget ? (budget / shown.coordinatorUs) ** OVERRUN_CREDIT_POWER : 1;
  const asked = (Math.min(sized.gflops, next.gflops) * budget) / (s.windowMs * 1000);
  return Math.floor(Math.min(windowGflops(n, reps, elapsedUs, s), asked) * overran);
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

/** What a commit inside the window shows, less (budget / time)^2 when it took more than the budget it was sized for. */
function overBudget(shown: Shown, s: WindowSettings): number {
  const budget = budgetUs(s, shown.rttUs);
  if (shown.coordinatorUs <= budget || shown.coordinatorUs > s.windowMs * 1000) return shown.gflops;
  return shown.gflops * (budget / shown.coordinatorUs) ** OVER_BUDGET_POWER;
}

const OVER_BUDGET_POWER = 2;
/** A round's credit for an overrun is (budget / time) to this power less. */
const OVERRUN_CREDIT_POWER = 10;
/** Part of the basis a second overrun in a row leaves, at most. */
const REPEATED_OVERRUN_KEEPS = 4 / 5;
