/**
 * The coordinators under test: real `capanode-coordinator serve` processes
 * from dist/, each on a free loopback port (port 0, read back from the line
 * serve prints), all serving one store with one key, so an agent could talk
 * to any of them. Their memory and CPU time are read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CapanodeError } from '../../common/errors.js';

const CLI = fileURLToPath(new URL('../../coordinator/cli.js', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const OUTPUT_KEPT = 20_000;
/** USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every Linux build that matters. */
const CLOCK_TICKS_PER_SEC = 100;

export interface CoordinatorProcess {
  index: number;
  pid: number;
  url: string;
  /** Resident memory now (bytes); null when /proc cannot be read. */
  rss(): number | null;
  /** CPU time used so far (user + system, seconds); null when /proc cannot be read. */
  cpuSeconds(): number | null;
  /** The last of what it printed (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 30 s. */
  stop(): Promise<void>;
}

export interface StartOptions {
  count: number;
  store: string;
  keyFile: string;
  /** serve's --max-connections for each process. */
  maxConnections: number;
}

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

function startOne(index: number, options: StartOptions): Promise<CoordinatorProcess> {
  const args = [
    CLI,
    'serve',
    '--key',
    options.keyFile,
    '--store',
    options.store,
    '--listen',
    '127.0.0.1:0',
    '--pot-enabled',
    'false',
    '--max-connections',
    String(options.maxConnections),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { env: { ...process.env, CAPANODE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > 2 * OUTPUT_KEPT) out = out.slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const pid = child.pid ?? 0;
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      if (running()) child.kill('SIGKILL');
      reject(
        new CapanodeError('config-invalid', `coordinator ${index + 1} ${why}:\n${out.trim().slice(-2000)}`, {
          hint: 'Its output is above: most often --store names a store this build cannot open, or the store is unreachable.',
        }),
      );
    };
    const timer = setTimeout(() => fail(`did not listen within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const early = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      fail(`exited (${signal ?? `code ${code}`}) before listening`);
    };
    child.once('exit', early);
    child.stderr?.on('data', (d: Buffer) => {
      keep(d);
      const m = /listening on (ws:\/\/\S+)\n/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        index,
        pid,
        url: m[1] as string,
        rss() {
          const kb = /^VmRSS:\s+(\d+) kB/m.exec(readProc(pid, 'status') ?? '');
          return kb === null ? null : Number(kb[1]) * 1024;
        },
        cpuSeconds() {
          const stat = readProc(pid, 'stat');
          if (stat === null) return null;
          // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
        },
        output: () => out,
        async stop() {
          if (!running()) return;
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/** Starts them one after another (the first may migrate the store); if one fails, stops the others and throws its error. */
export async function startCoordinators(options: StartOptions): Promise<CoordinatorProcess[]> {
  const started: CoordinatorProcess[] = [];
  try {
    for (let i = 0; i < options.count; i++) started.push(await startOne(i, options));
  } catch (e) {
    await Promise.all(started.map((c) => c.stop()));
    throw e;
  }
  return started;
}
