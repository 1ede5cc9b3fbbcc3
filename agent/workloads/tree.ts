/**
 * One job's process tree: started in its own process group, its output
 * hashed and capped, and killed whole. A kill reaches the group, every
 * descendant found through /proc (also those that left the group with
 * setsid), and every process still carrying the job's marker variable (an
 * orphan whose parent already died); TERM first, KILL after a grace.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { alive, descendants, pidsWithEnv, readStat, signal } from './proc.js';

/** The variable every job process is started with, so stray processes can be found. */
export const JOB_MARKER = 'CAPANODE_JOB';

export interface TreeSpec {
  argv: readonly [string, ...string[]];
  cwd: string;
  /** The complete environment (nothing is inherited). */
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  /** The job id, set as JOB_MARKER in the environment. */
  marker: string;
  /** Bytes of stdout + stderr kept in logFile; the digest covers all of stdout. */
  outputLimit: number;
  logFile: string | null;
}

export interface TreeOutcome {
  exitCode: number | null;
  signal: string | null;
  /** SHA-256 of the whole stdout stream, hex. */
  stdoutSha256: string;
  outputBytes: number;
  /** Output went past outputLimit: the rest was hashed (stdout) and dropped. */
  truncated: boolean;
  /** The spawn itself failed (no such file, permission): the message. */
  spawnError: string | null;
}

export interface RunningTree {
  pid: number;
  /** Start time from /proc, to recognise the process after an agent restart. */
  startTime: number | null;
  done: Promise<TreeOutcome>;
  /** Kills the whole tree (TERM, then KILL after graceMs); resolves when the leader has exited. */
  kill(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 2_000;

/** Every process of the tree still alive: the group, the descendants, the marked strays. */
function members(pid: number, marker: string): number[] {
  const found = new Set<number>([pid, ...descendants(pid), ...pidsWithEnv(JOB_MARKER, marker)]);
  found.delete(process.pid);
  return [...found];
}

function signalTree(pid: number, marker: string, sig: NodeJS.Signals): void {
  signal(-pid, sig);
  for (const p of members(pid, marker)) signal(p, sig);
}

/** Kills a tree this process did not start (found in the state file after a restart), when pid and start time still match. */
export function killStray(pid: number, startTime: number | null, marker: string): boolean {
  const stat = readStat(pid);
  const same = stat !== null && startTime !== null && stat.startTime === startTime;
  if (same) signalTree(pid, marker, 'SIGKILL');
  for (const p of pidsWithEnv(JOB_MARKER, marker)) signal(p, 'SIGKILL');
  return same;
}

export function startTree(spec: TreeSpec): RunningTree {
  const [file, ...args] = spec.argv;
  const child = spawn(file, args, {
    cwd: spec.cwd,
    env: { ...spec.env, [JOB_MARKER]: spec.marker },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  });
  const pid = child.pid ?? -1;
  const hash = createHash('sha256');
  let kept = 0;
  let total = 0;
  const log = spec.logFile === null ? null : openSync(spec.logFile, 'w', 0o600);
  const keep = (chunk: Buffer) => {
    total += chunk.length;
    if (kept >= spec.outputLimit) return;
    const part = chunk.subarray(0, spec.outputLimit - kept);
    kept += part.length;
    if (log !== null) writeSync(log, part);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    keep(chunk);
  });
  child.stderr.on('data', keep);

  let exited = false;
  const done = new Promise<TreeOutcome>((resolve) => {
    let spawnError: string | null = null;
    child.once('error', (e) => {
      spawnError = e.message;
      // 'close' follows for a spawn failure too; it carries the exit code -2 or null.
    });
    child.once('exit', () => {
      exited = true;
      // The job ends with its leader: whatever it left behind goes too (and releases the output pipes).
      if (pid > 0) signalTree(pid, spec.marker, 'SIGKILL');
    });
    child.once('close', (code, sig) => {
      exited = true;
      if (log !== null) closeSync(log);
      resolve({ exitCode: spawnError === null ? code : null, signal: sig, stdoutSha256: hash.digest('hex'), outputBytes: total, truncated: total > spec.outputLimit, spawnError });
    });
  });

  async function kill(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    if (pid <= 0 || exited) {
      await done;
      return;
    }
    signalTree(pid, spec.marker, 'SIGTERM');
    const timer = setTimeout(() => signalTree(pid, spec.marker, 'SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
    // Anything that ignored TERM and outlived the leader.
    for (const p of members(pid, spec.marker)) if (p !== pid && alive(p)) signal(p, 'SIGKILL');
  }

  return { pid, startTime: pid > 0 ? (readStat(pid)?.startTime ?? null) : null, done, kill };
}
