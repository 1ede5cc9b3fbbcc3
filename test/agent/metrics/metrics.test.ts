import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { createMetricsRegistry, parseListen, startMetricsServer } from '../../../agent/metrics/index.js';
import { sampleStatus } from '../../helpers/status.js';

describe('metrics', () => {
  it('exports GPU telemetry in dcgm-exporter style and the agent state', async () => {
    let doc = sampleStatus();
    const registry = createMetricsRegistry(() => doc, () => 60_000);
    const text = await registry.metrics();
    const labels = 'gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555555",modelName="NVIDIA H100 80GB HBM3"';
    expect(text).toContain(`DCGM_FI_DEV_GPU_UTIL{${labels}} 97`);
    expect(text).toContain(`DCGM_FI_DEV_FB_USED{${labels}} 61440`);
    expect(text).toContain(`DCGM_FI_DEV_POWER_USAGE{${labels}} 652`);
    expect(text).toContain(`DCGM_FI_DEV_SM_CLOCK{${labels}} 1980`);
    expect(text).toContain('capanode_journal_backlog 1');
    expect(text).toContain('capanode_last_ack_age_seconds 10');
    expect(text).toContain('capanode_link_state{state="connected"} 1');
    expect(text).toContain('capanode_link_state{state="backoff"} 0');
    expect(text).toContain('capanode_records{kind="uptime"} 40');
    expect(text).toContain('capanode_earnings_microcredits{state="vested"} 2000000');
    expect(text).toContain('capanode_jobs_running 0');
    doc = sampleStatus({ jobs: [{ job: 'j1', workload: 'exec', state: 'running', device: 'GPU-11111111-2222-3333-4444-555555555555', startedAt: 1 }] });
    expect(await registry.metrics()).toContain('capanode_jobs_running 1');
    doc = sampleStatus();
    // A GPU that disappears and an unknown value leave no stale series behind.
    doc = sampleStatus({ gpus: [], link: { ...doc.link, lastAckAt: null } });
    const after = await registry.metrics();
    expect(after).not.toContain('DCGM_FI_DEV_GPU_UTIL{');
    expect(after).toMatch(/^capanode_last_ack_age_seconds Nan$/m);
  });

  it('serves /metrics over HTTP and 404s elsewhere', async () => {
    const server = await startMetricsServer('127.0.0.1:0', createMetricsRegistry(() => sampleStatus()), createLogger({ level: 'silent' }));
    try {
      const ok = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('DCGM_FI_DEV_GPU_TEMP');
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('parses listen addresses and rejects bad ones', () => {
    expect(parseListen('127.0.0.1:9750')).toEqual({ host: '127.0.0.1', port: 9750 });
    expect(parseListen('[::1]:9750')).toEqual({ host: '::1', port: 9750 });
    expect(() => parseListen('9750')).toThrow(/HOST:PORT/);
    expect(() => parseListen('x:99999')).toThrow(/HOST:PORT/);
  });
});
