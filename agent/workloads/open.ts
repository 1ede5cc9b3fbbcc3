/**
 * Builds the daemon's job runner: probes the machine once for what the
 * enabled kinds need (a user to run as, a way to confine, a container
 * engine) and logs what it found, so an operator sees at start why a kind
 * will be refused.
 */
import { join } from 'node:path';
import type { Logger } from '../../common/log.js';
import { containerBackend, detectEngine } from './container.js';
import { execBackend } from './exec.js';
import { benchBackend, potBackend } from './in-process.js';
import type { WorkloadPolicy } from './policy.js';
import { JobRunner, type WorkloadPorts } from './runner.js';
import { detectSandbox } from './sandbox.js';

export async function openJobRunner(o: { policy: WorkloadPolicy; dataDir: string; ports: WorkloadPorts; logger: Logger; now?: () => number }): Promise<JobRunner> {
  const log = o.logger;
  const sandbox = o.policy.workloads.includes('exec') ? await detectSandbox(o.policy.workloadUser, log) : { runAs: null, confinement: { kind: 'none' as const } };
  let engine: Awaited<ReturnType<typeof detectEngine>> = { engine: null, reason: 'container jobs are disabled (config workloads)' };
  if (o.policy.workloads.includes('container')) {
    engine = await detectEngine();
    if (engine.engine === null) log.warn({ reason: engine.reason }, 'container jobs are enabled but no engine can run them: they fail until podman or docker works');
    else log.info({ engine: engine.engine.name }, 'container engine');
  }
  return new JobRunner({
    policy: o.policy,
    stateFile: join(o.dataDir, 'jobs.json'),
    logDir: join(o.dataDir, 'jobs'),
    ports: o.ports,
    backends: { pot: potBackend, bench: benchBackend, exec: execBackend(sandbox), container: containerBackend(engine.engine, engine.reason) },
    logger: log,
    ...(o.now === undefined ? {} : { now: o.now }),
  });
}
