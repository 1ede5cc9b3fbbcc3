/**
 * Linux process-tree facts from /proc: who descends from whom, and whether a
 * pid still names the process we started (pids are reused, so a pid alone is
 * never enough to kill after a restart: its start time must match too).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  /** Clock ticks after boot: with the pid, identifies one process for good. */
  startTime: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so fields are counted from the last ')'. */
export function parseStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isSafeInteger(pid)) return null;
  const fields = text.slice(close + 2).split(' ');
  // After the name: state(0) ppid(1) pgrp(2) session(3) ... starttime(19).
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (![ppid, pgid, startTime].every(Number.isSafeInteger)) return null;
  return { pid, ppid, pgid, startTime };
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

export function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (s !== null) out.push(s);
  }
  return out;
}

/** Every live descendant of root (not root itself), by parent links: includes those that left the process group with setsid. */
export function descendants(root: number, stats: readonly ProcStat[] = allStats()): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list === undefined) children.set(s.ppid, [s.pid]);
    else list.push(s.pid);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift();
    if (pid === undefined || out.includes(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Pids whose environment carries NAME=VALUE (readable for our own processes, and all of them as root). */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`${name}=${value}\0`);
  const out: number[] = [];
  for (const pid of allPids()) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`);
      if (env.indexOf(needle) === 0 || env.includes(Buffer.concat([Buffer.from([0]), needle]))) out.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
