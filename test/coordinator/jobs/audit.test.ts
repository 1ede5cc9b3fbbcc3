import { describe, expect, it } from 'vitest';
import { decideAudit } from '../../../coordinator/jobs/index.js';
import type { JobRow } from '../../../coordinator/store/index.js';

function replica(i: number, digest: string | null, over: Partial<JobRow> = {}): JobRow {
  return {
    id: `g.r${i}`, group: 'g', workload: 'pot', params: '{}', deadlineMs: 60_000, fee: 10, redundancy: 2, pinned: null, node: String(i).repeat(64), state: 'done', rejectedBy: [], reason: null,
    submittedAt: 1, assignedAt: 2, finishedAt: 3, cancelRequested: false, usageSeq: 4, usageAt: 5, usageAccepted: true, usageCode: null, usageReason: null,
    outputSha256: digest, gpuMs: 1, energyMj: 0, audit: 'pending', creditedAt: null, ...over,
  };
}
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('redundant execution audit', () => {
  it('passes replicas that agree', () => {
    expect(decideAudit([replica(1, A), replica(2, A)])).toEqual({ kind: 'decided', updates: [{ id: 'g.r1', audit: 'passed' }, { id: 'g.r2', audit: 'passed' }] });
  });

  it('waits while a replica has not settled', () => {
    expect(decideAudit([replica(1, A), replica(2, null, { state: 'running', usageAt: null, usageSeq: null, usageAccepted: null })])).toEqual({ kind: 'wait' });
  });

  it('flags the minority digest among three', () => {
    const d = decideAudit([replica(1, A, { redundancy: 3 }), replica(2, B, { redundancy: 3 }), replica(3, A, { redundancy: 3 })]);
    expect(d).toEqual({ kind: 'decided', updates: [{ id: 'g.r1', audit: 'passed' }, { id: 'g.r2', audit: 'failed' }, { id: 'g.r3', audit: 'passed' }] });
  });

  it('asks for a tiebreak when two disagree, then disputes if it settles nothing', () => {
    expect(decideAudit([replica(1, A), replica(2, B)])).toEqual({ kind: 'tiebreak' });
    const c = 'c'.repeat(64);
    expect(decideAudit([replica(1, A), replica(2, B), replica(3, c)])).toEqual({ kind: 'decided', updates: ['g.r1', 'g.r2', 'g.r3'].map((id) => ({ id, audit: 'disputed' })) });
    expect(decideAudit([replica(1, A), replica(2, B), replica(3, B)])).toMatchObject({ updates: [{ audit: 'failed' }, { audit: 'passed' }, { audit: 'passed' }] });
  });

  it('a single result cannot be audited, and refused or lost replicas do not vote', () => {
    expect(decideAudit([replica(1, A), replica(2, null, { state: 'lost', usageAccepted: false })])).toEqual({ kind: 'decided', updates: [{ id: 'g.r1', audit: 'none' }] });
    expect(decideAudit([replica(1, A), replica(2, B, { usageAccepted: false })])).toEqual({ kind: 'decided', updates: [{ id: 'g.r1', audit: 'none' }] });
  });
});
