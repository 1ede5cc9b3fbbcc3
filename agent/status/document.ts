/**
 * The status document: what `capanode status --json` prints, what the
 * control socket's `status` returns and what /metrics exports. Its shape is a
 * stable interface (docs/OPERATIONS.md): fields are added, never renamed.
 * Values that are not known yet are null.
 */
export type LinkState = 'disabled' | 'connecting' | 'connected' | 'backoff' | 'fork' | 'refused' | 'stopped';

export interface GpuStatus {
  index: number | null;
  uuid: string;
  name: string;
  util: number | null;
  memUsedMiB: number | null;
  memTotalMiB: number | null;
  tempC: number | null;
  powerMw: number | null;
  smClockMhz: number | null;
  sampledAt: number | null;
}

export interface FindingStatus {
  code: string;
  severity: 'info' | 'warning' | 'critical';
  gpu: string | null;
  message: string;
  hint: string;
}

export interface StatusDocument {
  source: 'daemon' | 'journal';
  node: { id: string; version: string; pid: number | null; startedAt: number | null; uptimeS: number | null };
  link: {
    state: LinkState;
    coordinator: string | null;
    since: number | null;
    lastAckAt: number | null;
    lastAckSeq: number | null;
    lastError: string | null;
    nextRetryAt: number | null;
    rttMs: number | null;
    clockSkewMs: number | null;
  };
  gpus: GpuStatus[];
  findings: FindingStatus[];
  bench: { at: number; device: string; memBwMBps: number | null; fp32Gflops: number | null; tensorGflops: number | null; h2dMBps: number | null; d2hMBps: number | null } | null;
  pot: { at: number; ok: boolean; gflops: number; reason: string | null; device: string } | null;
  journal: {
    headSeq: number | null;
    headHash: string | null;
    watermark: number;
    backlog: number;
    rejected: number;
    recordsByKind: Record<string, number>;
    error: string | null;
  };
  earnings: {
    epoch: number | null;
    epochEstimate: number | null;
    vested: number | null;
    unvested: number | null;
    claimed: number | null;
    claimable: number | null;
    reputation: number | null;
    stake: number | null;
    penalties: { epoch: number; kind: string; amount: number; reason: string }[];
    lastReceipt: { claimSeq: number; amount: number; epochs: [number, number] } | null;
    updatedAt: number | null;
  };
  jobs: { job: string; workload: string; state: string; device: string; startedAt: number }[];
}
