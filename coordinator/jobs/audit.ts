/**
 * Redundant execution: the same deterministic job on several nodes, their
 * output digests compared. Pure. Decided once every replica has ended:
 * the digest a strict majority returned passes; any other fails (a wrong
 * result, penalised by the reward engine). With no majority (two replicas
 * that disagree) one more replica settles it when a node is free; if that
 * still leaves no majority, the group is disputed: unpaid until an
 * operator looks.
 */
import type { AuditState, JobRow } from '../store/job-types.js';

export type AuditDecision =
  | { kind: 'wait' }
  | { kind: 'decided'; updates: { id: string; audit: AuditState }[] }
  /** No majority yet: add one replica. */
  | { kind: 'tiebreak' };

/** A replica has said all it will: its usage is judged, or it never ran (lost, withdrawn, rejected everywhere). */
function settled(j: JobRow): boolean {
  return j.usageAt !== null || j.state === 'lost' || j.state === 'cancelled' || (j.state === 'failed' && j.assignedAt === null);
}

/** Most replicas a group may grow to with tiebreaks. */
export function maxReplicas(redundancy: number): number {
  return redundancy + 1;
}

export function decideAudit(group: readonly JobRow[]): AuditDecision {
  const first = group[0];
  if (first === undefined) return { kind: 'wait' };
  if (!group.every(settled)) return { kind: 'wait' };
  const results = group.filter((j) => j.usageAccepted === true && j.outputSha256 !== null);
  if (results.length < 2) return { kind: 'decided', updates: results.map((j) => ({ id: j.id, audit: 'none' })) };
  const votes = new Map<string, number>();
  for (const j of results) votes.set(j.outputSha256 as string, (votes.get(j.outputSha256 as string) ?? 0) + 1);
  const [winner, count] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0] as [string, number];
  if (count * 2 > results.length) return { kind: 'decided', updates: results.map((j) => ({ id: j.id, audit: j.outputSha256 === winner ? 'passed' : 'failed' })) };
  if (group.length < maxReplicas(first.redundancy)) return { kind: 'tiebreak' };
  return { kind: 'decided', updates: results.map((j) => ({ id: j.id, audit: 'disputed' })) };
}
