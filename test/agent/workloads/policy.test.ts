import { describe, expect, it } from 'vitest';
import { allowedCommand, decide, type WorkloadPolicy } from '../../../agent/workloads/index.js';

const policy: WorkloadPolicy = { workloads: ['exec'], execAllowlist: ['/opt/jobs/train'], workloadUser: 'nobody', containerNetwork: false };

describe('workload policy', () => {
  it('matches the allowlist by exact, normalised absolute path only', () => {
    expect(allowedCommand('/opt/jobs/train', policy.execAllowlist)).toBe(true);
    for (const bad of ['train', './train', '/opt/jobs/../jobs/train', '/opt/jobs//train', '/opt/jobs/train ', '/opt/jobs/trainer']) expect(allowedCommand(bad, policy.execAllowlist)).toBe(false);
  });

  it('always allows pot and bench, and other kinds only when enabled', () => {
    expect(decide({ workload: 'bench', params: {} }, { ...policy, workloads: [] })).toMatchObject({ ok: true });
    const d = decide({ workload: 'container', params: { image: 'alpine' } }, policy);
    expect(d.ok ? '' : d.reason).toContain('container jobs are disabled');
  });

  it('refuses unknown params and variables the agent sets, naming them', () => {
    const unknown = decide({ workload: 'exec', params: { command: '/opt/jobs/train', shell: true } }, policy);
    expect(unknown.ok ? '' : unknown.reason).toContain('params.shell');
    const preload = decide({ workload: 'exec', params: { command: '/opt/jobs/train', env: ['LD_PRELOAD=/tmp/x.so'] } }, policy);
    expect(preload.ok ? '' : preload.reason).toContain('LD_*');
    expect(decide({ workload: 'exec', params: { command: '/opt/jobs/train', args: ['--epochs', '3'], env: ['SEED=1'] } }, policy)).toMatchObject({ ok: true, spec: { args: ['--epochs', '3'], env: ['SEED=1'], outputLimit: 1 << 20 } });
  });
});
