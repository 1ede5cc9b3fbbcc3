import type { StatusDocument } from '../../agent/status/index.js';

export function sampleStatus(overrides: Partial<StatusDocument> = {}): StatusDocument {
  return {
    source: 'daemon',
    node: { id: 'ab'.repeat(32), version: '0.1.0', pid: 4242, startedAt: 1_000, uptimeS: 120 },
    link: { state: 'connected', coordinator: 'ws://127.0.0.1:7400', since: 1_000, lastAckAt: 50_000, lastAckSeq: 41, lastError: null, nextRetryAt: null, rttMs: 3, clockSkewMs: 12 },
    gpus: [{ index: 0, uuid: 'GPU-11111111-2222-3333-4444-555555555555', name: 'NVIDIA H100 80GB HBM3', util: 97, memUsedMiB: 61_440, memTotalMiB: 81_559, tempC: 64, powerMw: 652_000, smClockMhz: 1980, sampledAt: 59_000 }],
    findings: [{ code: 'thermal-throttle', severity: 'warning', gpu: 'GPU-11111111-2222-3333-4444-555555555555', message: 'thermal slowdown active', hint: 'check cooling' }],
    bench: { at: 2_000, device: 'GPU-11111111-2222-3333-4444-555555555555', memBwMBps: 3_000_000, fp32Gflops: 60_000, tensorGflops: 700_000, h2dMBps: 50_000, d2hMBps: 50_000 },
    pot: { at: 40_000, ok: true, gflops: 650_000, reason: null, device: 'GPU-11111111-2222-3333-4444-555555555555' },
    journal: { headSeq: 42, headHash: 'cd'.repeat(32), watermark: 41, backlog: 1, rejected: 0, recordsByKind: { uptime: 40, throughput: 2 }, error: null },
    earnings: { epoch: 7, epochEstimate: 1_500_000, vested: 2_000_000, unvested: 6_000_000, claimed: 500_000, claimable: 1_500_000, reputation: 0.75, stake: 0, penalties: [], lastReceipt: null, updatedAt: 55_000 },
    jobs: [],
    ...overrides,
  };
}
