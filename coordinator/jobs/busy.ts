/**
 * Which nodes are busy with the coordinator's own work, for the challenge
 * rounds (coordinator/pot/rounds.ts, docs/INCENTIVES.md §10): a node whose
 * every job slot runs a job it was sent would compute a round's challenge
 * beside it and commit late. Pure: the rounds read the jobs, this decides.
 *
 * Only jobs a node could not have arranged count: ones the dispatcher chose
 * the node for (not pinned to it by whoever submitted them, who may be its
 * own operator), that the node reported running, that were sent before the
 * round came (its time is secret, so a job cannot be fetched for it), and
 * that are still inside their deadline and not being cancelled.
 */
import type { Inventory } from '../../proofs/messages.js';
import type { JobRow } from '../store/job-types.js';

/** Jobs a node takes at once: one per GPU, one in all without a GPU. */
export function jobSlots(inventory: Inventory | null): number {
  return Math.max(1, inventory?.gpus.length ?? 0);
}

/** Per node, the jobs that keep it busy at `atMs` (coordinator clock). */
export function busyJobCounts(jobs: readonly JobRow[], atMs: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const j of jobs) {
    if (j.node === null || j.state !== 'running' || j.pinned !== null || j.cancelRequested || j.assignedAt === null) continue;
    if (j.assignedAt >= atMs || atMs > j.assignedAt + j.deadlineMs) continue;
    counts.set(j.node, (counts.get(j.node) ?? 0) + 1);
  }
  return counts;
}

/** Whether every job slot of the node is taken by a job that keeps it busy. */
export function fullyBusy(inventory: Inventory | null, busyJobs: number): boolean {
  return busyJobs >= jobSlots(inventory);
}
