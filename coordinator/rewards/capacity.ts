/**
 * Verified capacity V (DESIGN §8): the median of the node's last
 * `capacityWindow` PoT verdicts, a failed or missed one counting as 0, and 0
 * outright while the latest verdict is not a pass ("a failed check zeroes V
 * until a new challenge passes"). Self-reported figures count for nothing.
 */
import { lowerMedian } from './math.js';
import type { VerdictFact } from './facts.js';

const OUTCOME_ORDER = { pass: 0, missed: 1, fail: 2 } as const;

/** Verdicts oldest first; equal times ordered so the worse outcome counts as the later one (deterministic, never in the node's favour). */
export function sortVerdicts(verdicts: readonly VerdictFact[]): VerdictFact[] {
  return [...verdicts].sort((a, b) => a.time - b.time || OUTCOME_ORDER[a.outcome] - OUTCOME_ORDER[b.outcome] || a.gflops - b.gflops);
}

export interface Capacity {
  /** V in GFLOP/s. */
  gflops: number;
  /** The verdict values the median was taken over, oldest first (fails and misses as 0). */
  window: number[];
  /** Why V is 0 when it is. */
  zeroBecause: 'no-verdicts' | 'last-not-passed' | null;
}

export function verifiedCapacity(verdicts: readonly VerdictFact[], capacityWindow: number): Capacity {
  const sorted = sortVerdicts(verdicts);
  const last = sorted[sorted.length - 1];
  const window = sorted.slice(-capacityWindow).map((v) => (v.outcome === 'pass' ? v.gflops : 0));
  if (last === undefined) return { gflops: 0, window, zeroBecause: 'no-verdicts' };
  if (last.outcome !== 'pass') return { gflops: 0, window, zeroBecause: 'last-not-passed' };
  return { gflops: lowerMedian(window), window, zeroBecause: null };
}

export interface EpochChecks {
  passed: number;
  failed: number;
  missed: number;
}

/** This epoch's verdicts, by outcome: [startMs, endMs). */
export function epochChecks(verdicts: readonly VerdictFact[], startMs: number, endMs: number): EpochChecks {
  const counts: EpochChecks = { passed: 0, failed: 0, missed: 0 };
  for (const v of verdicts) {
    if (v.time < startMs || v.time >= endMs) continue;
    if (v.outcome === 'pass') counts.passed++;
    else if (v.outcome === 'fail') counts.failed++;
    else counts.missed++;
  }
  return counts;
}
