import { describe, expect, it } from 'vitest';
import { judgeUsage, type UsageContext } from '../../../coordinator/jobs/index.js';
import type { JobRow } from '../../../coordinator/store/index.js';
import type { UsageBody } from '../../../proofs/envelope.js';

const NODE = 'a'.repeat(64);
const GPU = 'GPU-11111111-2222-3333-4444-555555555555';
const job: JobRow = {
  id: 'j1', group: 'j1', workload: 'exec', params: '{}', deadlineMs: 60_000, fee: 10, redundancy: 1, pinned: null, node: NODE, state: 'running', rejectedBy: [], reason: null,
  submittedAt: 900, assignedAt: 1_000, finishedAt: null, cancelRequested: false, usageSeq: null, usageAt: null, usageAccepted: null, usageCode: null, usageReason: null,
  outputSha256: null, gpuMs: null, energyMj: null, audit: 'none', creditedAt: null,
};
const usage: UsageBody = { job: 'j1', workload: 'exec', device: GPU, startedAt: 2_000, endedAt: 12_000, gpuMs: 10_000, energyMj: 3_000_000, exitCode: 0, outputSha256: 'f'.repeat(64) };
const ctx: UsageContext = { node: NODE, skewMs: 0, inventory: { gpus: [{ uuid: GPU, name: 'H100', memoryMiB: 81_559 }] }, limits: { maxGpuPowerW: 1_000, maxCpuPowerW: 500, slackMs: 5_000 } };
const code = (v: ReturnType<typeof judgeUsage>) => (v.accepted ? 'accepted' : v.code);

describe('judging a usage record', () => {
  it('accepts the assigned node\'s record inside the window with plausible energy', () => {
    expect(judgeUsage(job, usage, ctx)).toEqual({ accepted: true });
    // Exactly at the power ceiling: 1000 W for 10 s.
    expect(code(judgeUsage(job, { ...usage, energyMj: 10_000_000 }, ctx))).toBe('accepted');
  });

  it('refuses a job never assigned, another node\'s job and a second record', () => {
    expect(code(judgeUsage(null, usage, ctx))).toBe('usage-unknown-job');
    expect(code(judgeUsage({ ...job, assignedAt: null }, usage, ctx))).toBe('usage-unknown-job');
    expect(code(judgeUsage({ ...job, node: 'b'.repeat(64) }, usage, ctx))).toBe('usage-wrong-node');
    expect(code(judgeUsage({ ...job, usageAt: 5, usageSeq: 3 }, usage, ctx))).toBe('usage-duplicate');
  });

  it('refuses times outside the job window, allowing for the node\'s measured skew', () => {
    expect(code(judgeUsage(job, { ...usage, startedAt: 1_000 - 5_001 }, ctx))).toBe('usage-outside-window');
    expect(code(judgeUsage(job, { ...usage, endedAt: 1_000 + 60_000 + 5_001, gpuMs: 1 }, ctx))).toBe('usage-outside-window');
    expect(code(judgeUsage(job, { ...usage, gpuMs: 10_001 }, ctx))).toBe('usage-outside-window');
    // The node's clock runs 7 s ahead: its times are moved back before the check.
    const late = { ...usage, startedAt: 62_999, endedAt: 72_999 };
    expect(code(judgeUsage(job, late, { ...ctx, skewMs: 7_000 }))).toBe('accepted');
    expect(code(judgeUsage(job, late, { ...ctx, skewMs: 0 }))).toBe('usage-outside-window');
  });

  it('refuses impossible energy and a device the node never reported', () => {
    expect(judgeUsage(job, { ...usage, energyMj: 10_000_001 }, ctx)).toMatchObject({ accepted: false, code: 'usage-energy', reason: expect.stringContaining('1000 W') as unknown });
    expect(code(judgeUsage(job, { ...usage, device: 'GPU-99999999-2222-3333-4444-555555555555' }, ctx))).toBe('usage-device');
    expect(code(judgeUsage(job, { ...usage, device: 'cpu', energyMj: 5_000_001 }, ctx))).toBe('usage-energy');
    expect(code(judgeUsage(job, { ...usage, workload: 'pot' }, ctx))).toBe('usage-workload');
    // The GPU's reported power limit bounds it more tightly than the coordinator's ceiling: 350 W for 10 s.
    const limited: UsageContext = { ...ctx, inventory: { gpus: [{ uuid: GPU, name: 'RTX 3090', memoryMiB: 24_576, powerLimitW: 350 }] } };
    expect(code(judgeUsage(job, { ...usage, energyMj: 3_500_000 }, limited))).toBe('accepted');
    expect(judgeUsage(job, { ...usage, energyMj: 3_500_001 }, limited)).toMatchObject({ accepted: false, code: 'usage-energy', reason: expect.stringContaining('350 W') as unknown });
  });
});
