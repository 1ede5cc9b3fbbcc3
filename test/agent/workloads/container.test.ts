import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { containerArgs, containerBackend, detectEngine } from '../../../agent/workloads/container.js';
import { benchBackend, execBackend, JobRunner, potBackend } from '../../../agent/workloads/index.js';
import { until } from '../../helpers/processes.js';
import { tempDir } from '../../helpers/tmp.js';
import { assignment, recordingPorts } from '../../helpers/workload-ports.js';

const GPU = 'GPU-11111111-2222-3333-4444-555555555555';
const spec = { workload: 'container' as const, image: 'docker.io/library/alpine:3.20', args: ['echo', 'hi'], env: ['A=1'], network: false, memoryMiB: 512, outputLimit: 1024 };

describe('container command line', () => {
  it('passes the GPU by UUID, no network, no capabilities, bounded memory and tasks', () => {
    const docker = containerArgs({ name: 'docker', path: 'docker' }, spec, 'j1', { uuid: GPU, index: 0 });
    expect(docker).toEqual(expect.arrayContaining(['--network', 'none', '--cap-drop', 'ALL', '--memory', '512m', '--gpus', `device=${GPU}`, '--rm']));
    expect(docker.slice(-3)).toEqual(['docker.io/library/alpine:3.20', 'echo', 'hi']);
    const podman = containerArgs({ name: 'podman', path: 'podman' }, { ...spec, network: true }, 'j1', { uuid: GPU, index: 0 });
    expect(podman).toEqual(expect.arrayContaining(['--device', `nvidia.com/gpu=${GPU}`, '--network', 'bridge']));
    expect(containerArgs({ name: 'docker', path: 'docker' }, spec, 'j1', { uuid: 'cpu', index: 'cpu' })).not.toContain('--gpus');
  });
});

function containerRunner(container: ReturnType<typeof containerBackend>) {
  const dir = tempDir();
  const ports = recordingPorts();
  const runner = new JobRunner({
    policy: { workloads: ['container'], execAllowlist: [], workloadUser: 'nobody', containerNetwork: false },
    stateFile: join(dir, 'jobs.json'),
    logDir: join(dir, 'jobs'),
    ports,
    backends: { pot: potBackend, bench: benchBackend, exec: execBackend({ runAs: null, confinement: { kind: 'none' } }), container },
    logger: createLogger({ level: 'silent' }),
  });
  runner.start();
  return { runner, ports };
}

const found = await detectEngine();
if (found.engine === null) console.warn(`container job test skipped: no engine can run containers here (${found.reason})`);

describe('container jobs', () => {
  it.skipIf(found.engine === null)(`run an image and digest its output (engine: ${found.engine?.name ?? `none: ${found.reason}`})`, async () => {
    const { runner, ports } = containerRunner(containerBackend(found.engine, found.reason));
    const a = assignment('container', { image: 'docker.io/library/alpine:3.20', args: ['echo', 'hi'] }, 300_000);
    runner.assign(a);
    await until(() => ports.final(a.job) !== undefined, 280_000, 'the container job to end');
    await runner.stop(0);
    expect(ports.final(a.job)?.state).toBe('done');
  });

  it('a node with container jobs enabled but no engine fails them with the reason', async () => {
    const { runner, ports } = containerRunner(containerBackend(null, 'docker cannot run containers: no daemon'));
    const a = assignment('container', { image: 'alpine', network: true });
    runner.assign(a);
    expect(ports.final(a.job)?.reason).toContain('containerNetwork');
    const b = assignment('container', { image: 'alpine' });
    runner.assign(b);
    await until(() => ports.final(b.job) !== undefined, 5_000, 'the job to fail');
    expect(ports.final(b.job)).toMatchObject({ state: 'failed', reason: 'no container engine: docker cannot run containers: no daemon' });
    await runner.stop(0);
  });
});
