/**
 * `exec` jobs: an allowlisted executable, started directly (no shell) as the
 * unprivileged workload user, in a fresh private directory removed
 * afterwards, with an environment built from nothing (the agent's own
 * variables, secrets included, never reach it), under the sandbox's limits.
 */
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, Execution, JobDevice } from './backend.js';
import { confine, spawnUser, type Sandbox } from './sandbox.js';
import { startTree } from './tree.js';

/** The whole environment of a job: fixed values, the job's own NAME=VALUE entries, and its GPU. */
export function jobEnvironment(workDir: string, device: JobDevice, entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of entries) {
    const at = e.indexOf('=');
    env[e.slice(0, at)] = e.slice(at + 1);
  }
  Object.assign(env, { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: workDir, TMPDIR: workDir, LANG: 'C.UTF-8' });
  // A CPU-only job sees no GPU at all.
  env.CUDA_VISIBLE_DEVICES = device.uuid === 'cpu' ? '' : device.uuid;
  return env;
}

/** A private directory for one job, owned by the user it runs as. */
export function makeWorkDir(sandbox: Sandbox, root = tmpdir()): string {
  const dir = mkdtempSync(join(root, 'capanode-job-'));
  if (sandbox.runAs !== null) chownSync(dir, sandbox.runAs.uid, sandbox.runAs.gid);
  return dir;
}

export function execBackend(sandbox: Sandbox, options: { tmpRoot?: string } = {}): Backend<Extract<Parameters<Backend>[0], { workload: 'exec' }>> {
  return (spec, ctx): Execution => {
    if (process.getuid?.() === 0 && sandbox.runAs === null) {
      return { pid: null, startTime: null, done: Promise.resolve({ exitCode: null, outputSha256: null, error: 'the workload user does not exist: refusing to run a job as root' }), kill: () => Promise.resolve() };
    }
    const workDir = makeWorkDir(sandbox, options.tmpRoot);
    const user = spawnUser(sandbox);
    const tree = startTree({
      argv: confine(sandbox, [spec.command, ...spec.args], { unit: `capanode-job-${ctx.job}`, memoryMiB: spec.memoryMiB }),
      cwd: workDir,
      env: jobEnvironment(workDir, ctx.device, spec.env),
      ...(user === null ? {} : { uid: user.uid, gid: user.gid }),
      marker: ctx.job,
      outputLimit: spec.outputLimit,
      logFile: ctx.logFile,
    });
    const done = tree.done.then((o) => {
      rmSync(workDir, { recursive: true, force: true });
      return { exitCode: o.exitCode, outputSha256: o.spawnError === null ? o.stdoutSha256 : null, error: o.spawnError === null ? null : `could not start ${spec.command}: ${o.spawnError}` };
    });
    return { pid: tree.pid > 0 ? tree.pid : null, startTime: tree.startTime, done, kill: (graceMs) => tree.kill(graceMs) };
  };
}
