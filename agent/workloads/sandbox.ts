/**
 * How this machine confines a job's processes, decided once at start:
 * - the user: as root, the operator's unprivileged workloadUser; otherwise
 *   the agent's own user (and the log says so, since nothing lower exists);
 * - the limits: a transient systemd scope (a cgroup: memory, task count, and
 *   a kill that reaches every process however it forked) when systemd-run
 *   works here, else prlimit's rlimits (no core dumps, bounded files,
 *   processes and data segment).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Logger } from '../../common/log.js';

const run = promisify(execFile);

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

export type Confinement = { kind: 'systemd-scope' } | { kind: 'prlimit'; path: string } | { kind: 'none' };

export interface Sandbox {
  /** null: run as the agent's own user. */
  runAs: RunAs | null;
  confinement: Confinement;
}

/** The most tasks (processes and threads) one job may have. */
export const JOB_TASKS_MAX = 512;
export const JOB_NOFILE_MAX = 4096;

/** Looks a user up in /etc/passwd (no NSS: a service user is local). */
export function lookupUser(name: string, passwd = '/etc/passwd'): RunAs | null {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] !== name) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isSafeInteger(uid) && Number.isSafeInteger(gid)) return { user: name, uid, gid };
  }
  return null;
}

async function works(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function which(name: string): string | null {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return null;
}

export async function detectSandbox(workloadUser: string, log: Logger): Promise<Sandbox> {
  let runAs: RunAs | null = null;
  if (process.getuid?.() === 0) {
    runAs = lookupUser(workloadUser);
    if (runAs === null) log.warn({ workloadUser }, `workloadUser ${workloadUser} does not exist: exec and container jobs are refused until it does (create it, or set workloadUser)`);
  } else {
    log.info({ uid: process.getuid?.() }, 'the agent does not run as root: exec jobs run as the agent\'s own user (workloadUser needs root to switch to)');
  }
  let confinement: Confinement = { kind: 'none' };
  if (await works('systemd-run', ['--scope', '--quiet', '--collect', '--', 'true'])) confinement = { kind: 'systemd-scope' };
  else {
    const prlimit = which('prlimit');
    if (prlimit !== null) confinement = { kind: 'prlimit', path: prlimit };
  }
  if (confinement.kind === 'none') log.warn('neither systemd-run nor prlimit works here: exec jobs run without resource limits (install util-linux)');
  else log.info({ confinement: confinement.kind }, 'job confinement');
  return { runAs, confinement };
}

/** The command line that runs argv under the sandbox's limits. Under a systemd scope, systemd switches the user; otherwise the spawn does (spawnUser). */
export function confine(sandbox: Sandbox, argv: readonly [string, ...string[]], o: { unit: string; memoryMiB: number | null }): [string, ...string[]] {
  const c = sandbox.confinement;
  switch (c.kind) {
    case 'systemd-scope': {
      const props = ['-p', `TasksMax=${JOB_TASKS_MAX}`, ...(o.memoryMiB === null ? [] : ['-p', `MemoryMax=${o.memoryMiB}M`, '-p', 'MemorySwapMax=0'])];
      const user = sandbox.runAs === null ? [] : [`--uid=${sandbox.runAs.uid}`, `--gid=${sandbox.runAs.gid}`];
      return ['systemd-run', '--scope', '--quiet', '--collect', `--unit=${o.unit}`, ...props, ...user, '--', ...argv];
    }
    case 'prlimit': {
      const data = o.memoryMiB === null ? [] : [`--data=${o.memoryMiB * 1024 * 1024}`];
      // RLIMIT_NPROC counts every process of the user: only bounded for the dedicated workload user, never the agent's own.
      const nproc = sandbox.runAs === null ? [] : [`--nproc=${JOB_TASKS_MAX}`];
      return [c.path, '--core=0', `--nofile=${JOB_NOFILE_MAX}`, ...nproc, ...data, '--', ...argv];
    }
    case 'none':
      return [...argv];
  }
}

/** The uid/gid the spawn itself must take (none under a systemd scope: systemd-run switches user, and must start as root to reach systemd). */
export function spawnUser(sandbox: Sandbox): RunAs | null {
  return sandbox.confinement.kind === 'systemd-scope' ? null : sandbox.runAs;
}
