/**
 * Prometheus metrics from the status document. GPU series follow NVIDIA's
 * dcgm-exporter names and units (so existing dashboards work), labelled by
 * gpu index, UUID and model; the agent's own series are capanode_*.
 */
import { Gauge, Registry } from 'prom-client';
import type { StatusDocument } from '../status/index.js';

const LINK_STATES = ['disabled', 'connecting', 'connected', 'backoff', 'fork', 'refused', 'stopped'] as const;

export function createMetricsRegistry(snapshot: () => StatusDocument, now: () => number = Date.now): Registry {
  const registry = new Registry();
  const gpuLabels = ['gpu', 'UUID', 'modelName'] as const;
  const gpuGauge = (name: string, help: string, pick: (g: StatusDocument['gpus'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: gpuLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const g of snapshot().gpus) {
          const v = pick(g);
          if (v !== null) this.set({ gpu: String(g.index ?? ''), UUID: g.uuid, modelName: g.name }, v);
        }
      },
    });
  gpuGauge('DCGM_FI_DEV_GPU_UTIL', 'GPU utilization (in %).', (g) => g.util);
  gpuGauge('DCGM_FI_DEV_FB_USED', 'Framebuffer memory used (in MiB).', (g) => g.memUsedMiB);
  gpuGauge('DCGM_FI_DEV_GPU_TEMP', 'GPU temperature (in C).', (g) => g.tempC);
  gpuGauge('DCGM_FI_DEV_POWER_USAGE', 'Power draw (in W).', (g) => (g.powerMw === null ? null : g.powerMw / 1000));
  gpuGauge('DCGM_FI_DEV_SM_CLOCK', 'SM clock frequency (in MHz).', (g) => g.smClockMhz);

  const simple = (name: string, help: string, value: (s: StatusDocument) => number | null, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        // prom-client prints 0 for an unlabelled gauge with no value; NaN (printed "Nan", which
        // Prometheus parses as NaN) says "unknown" honestly.
        const v = value(snapshot());
        this.set(v ?? Number.NaN);
      },
    });
  simple('capanode_journal_head_seq', 'Highest seq signed into the journal.', (s) => s.journal.headSeq);
  simple('capanode_journal_acked_seq', 'Highest seq the coordinator acknowledged.', (s) => s.journal.watermark);
  simple('capanode_journal_backlog', 'Records signed but not yet acknowledged.', (s) => s.journal.backlog);
  simple('capanode_journal_rejected', 'Records the coordinator rejected.', (s) => s.journal.rejected);
  simple('capanode_journal_error', '1 while the journal cannot be written (disk full, read-only).', (s) => (s.journal.error === null ? 0 : 1));
  simple('capanode_last_ack_age_seconds', 'Seconds since the coordinator last acknowledged a record.', (s) => (s.link.lastAckAt === null ? null : (now() - s.link.lastAckAt) / 1000));
  simple('capanode_link_rtt_ms', 'Median round trip to the coordinator.', (s) => s.link.rttMs);
  simple('capanode_pot_verified_gflops', 'GFLOP/s of the latest Proof of Throughput verdict.', (s) => (s.pot === null ? null : s.pot.gflops));
  simple('capanode_reputation', 'Reputation the coordinator reports, 0..1.', (s) => s.earnings.reputation);
  simple('capanode_findings', 'Health findings currently raised.', (s) => s.findings.length);
  simple('capanode_jobs_running', 'Jobs the coordinator assigned that run now (one per GPU at most).', (s) => s.jobs.length);
  new Gauge({
    name: 'capanode_link_state',
    help: '1 for the link\'s current state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const state = snapshot().link.state;
      for (const s of LINK_STATES) this.set({ state: s }, s === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'capanode_records',
    help: 'Records in the journal by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, count] of Object.entries(snapshot().journal.recordsByKind)) this.set({ kind }, count);
    },
  });
  new Gauge({
    name: 'capanode_earnings_microcredits',
    help: 'Earnings the coordinator reports, in micro-credits.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const e = snapshot().earnings;
      for (const [state, v] of [['epoch_estimate', e.epochEstimate], ['vested', e.vested], ['unvested', e.unvested], ['claimed', e.claimed], ['claimable', e.claimable]] as const) {
        if (v !== null) this.set({ state }, v);
      }
    },
  });
  return registry;
}
