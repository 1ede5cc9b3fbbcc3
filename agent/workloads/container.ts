/**
 * `container` jobs: an OCI image through podman or docker, whichever can
 * run containers here. The GPU is passed through by UUID (CDI for podman,
 * --gpus for docker); no network unless the job asks and the operator
 * allows; no capabilities, no new privileges, bounded memory and tasks;
 * removed when it ends. A cancel stops the container through the engine as
 * well as the client process, since the container does not belong to the
 * client's process tree.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Backend, Execution, JobDevice } from './backend.js';
import { JOB_TASKS_MAX } from './sandbox.js';
import { startTree } from './tree.js';

const run = promisify(execFile);

export type ContainerEngine = { name: 'podman' | 'docker'; path: string };

/** The first engine that answers `info` (a docker client without a daemon does not). */
export async function detectEngine(candidates: readonly ('podman' | 'docker')[] = ['podman', 'docker']): Promise<{ engine: ContainerEngine | null; reason: string }> {
  const reasons: string[] = [];
  for (const name of candidates) {
    try {
      await run(name, ['info'], { timeout: 15_000 });
      return { engine: { name, path: name }, reason: `${name} answers` };
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      reasons.push(err.code === 'ENOENT' ? `${name} is not installed` : `${name} cannot run containers: ${(err.stderr ?? err.message).trim().split('\n')[0] ?? ''}`);
    }
  }
  return { engine: null, reason: reasons.join('; ') };
}

export function containerName(job: string): string {
  return `capanode-${job.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

function gpuFlags(engine: ContainerEngine, device: JobDevice): string[] {
  if (device.uuid === 'cpu') return [];
  return engine.name === 'podman' ? ['--device', `nvidia.com/gpu=${device.uuid}`] : ['--gpus', `device=${device.uuid}`];
}

type ContainerSpec = Extract<Parameters<Backend>[0], { workload: 'container' }>;

export function containerArgs(engine: ContainerEngine, spec: ContainerSpec, job: string, device: JobDevice): [string, ...string[]] {
  return [
    engine.path,
    'run',
    '--rm',
    '--name',
    containerName(job),
    '--network',
    spec.network ? 'bridge' : 'none',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--pids-limit',
    String(JOB_TASKS_MAX),
    ...(spec.memoryMiB === null ? [] : ['--memory', `${spec.memoryMiB}m`]),
    ...gpuFlags(engine, device),
    ...spec.env.flatMap((e) => ['--env', e]),
    '--',
    spec.image,
    ...spec.args,
  ];
}

export function containerBackend(engine: ContainerEngine | null, reason: string): Backend<ContainerSpec> {
  return (spec, ctx): Execution => {
    if (engine === null) return { pid: null, startTime: null, done: Promise.resolve({ exitCode: null, outputSha256: null, error: `no container engine: ${reason}` }), kill: () => Promise.resolve() };
    const tree = startTree({
      argv: containerArgs(engine, spec, ctx.job, ctx.device),
      cwd: '/',
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', ...(process.env.XDG_RUNTIME_DIR === undefined ? {} : { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR }) },
      marker: ctx.job,
      outputLimit: spec.outputLimit,
      logFile: ctx.logFile,
    });
    const done = tree.done.then((o) => ({ exitCode: o.exitCode, outputSha256: o.spawnError === null ? o.stdoutSha256 : null, error: o.spawnError === null ? null : `could not start ${engine.name}: ${o.spawnError}` }));
    return {
      pid: tree.pid > 0 ? tree.pid : null,
      startTime: tree.startTime,
      done,
      async kill(graceMs) {
        await run(engine.path, ['kill', containerName(ctx.job)], { timeout: 15_000 }).catch(() => undefined);
        await tree.kill(graceMs);
      },
    };
  };
}
