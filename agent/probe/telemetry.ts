/**
 * Live GPU telemetry from one long-running
 * `nvidia-smi --query-gpu=... --format=csv,noheader,nounits -lms N` child for
 * the whole daemon: a process per sample would cost a driver round trip (and,
 * without persistence mode, a GPU initialisation) every interval. The child is
 * restarted with backoff when it dies and stopped on shutdown.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { Logger } from '../../common/log.js';
import { Backoff } from '../link/index.js';
import { LEGACY_QUERY_FIELDS, parseTelemetryLine, QUERY_FIELDS, queryArgs } from './csv.js';
import { diagnoseSmiFailure } from './diagnose.js';
import { SampleHistory, type HistoryOptions } from './history.js';
import type { Finding, GpuWindow, Sample } from './types.js';

export interface TelemetryOptions {
  /** Sampling interval, ms (nvidia-smi -lms). */
  intervalMs: number;
  logger: Logger;
  /** The nvidia-smi executable; default 'nvidia-smi' from PATH. */
  command?: string;
  /** Restart delays after the child dies: exponential with full jitter. Defaults 1 s to 60 s. */
  backoff?: { minMs?: number; maxMs?: number; random?: () => number };
  /** A child that ran at least this long before dying resets the backoff. Default 60 s. */
  stableMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 2 s. */
  killAfterMs?: number;
  history?: HistoryOptions;
  /** Called for every sample, after it is stored. */
  onSample?: (sample: Sample) => void;
  /** Clock for sample times; default Date.now. */
  now?: () => number;
  /** Environment for the child; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Schedules restarts; default the global setTimeout/clearTimeout. Tests pass a manual one to fire restarts on demand. */
  timers?: TelemetryTimers;
}

/** The timer the restart backoff waits on. */
export interface TelemetryTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const GLOBAL_TIMERS: TelemetryTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface TelemetryState {
  /** A child is running now. */
  running: boolean;
  pid: number | null;
  /** Children started after the first one. */
  restarts: number;
  /** Samples received since the current child started. */
  samplesThisRun: number;
  samplesTotal: number;
  /** Lines that did not parse, since start(). */
  badLines: number;
  /** Which field list nvidia-smi accepted: 'legacy' on drivers that predate clock event reasons. */
  fields: 'current' | 'legacy';
  /** Why the last child ended, as a finding; null while none has failed. */
  lastFailure: Finding | null;
  nextRestartAt: number | null;
}

const KEEP_STDERR = 4096;
const KEEP_BAD_LINES = 5;

export class Telemetry {
  private readonly history: SampleHistory;
  private readonly backoff: Backoff;
  private readonly listeners = new Set<(s: Sample) => void>();
  private readonly command: string;
  private readonly now: () => number;
  private readonly timers: TelemetryTimers;
  private child: ChildProcessByStdio<null, Readable, Readable> | null = null;
  private childDone: Promise<void> | null = null;
  private restartTimer: unknown = null;
  private started = false;
  private stopping = false;
  private fieldSet: 'current' | 'legacy' = 'current';
  private restarts = -1;
  private samplesThisRun = 0;
  private samplesTotal = 0;
  private badLines = 0;
  private lastFailure: Finding | null = null;
  private nextRestartAt: number | null = null;

  constructor(private readonly options: TelemetryOptions) {
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 1) throw new RangeError(`telemetry intervalMs must be a positive integer, got ${options.intervalMs}`);
    this.history = new SampleHistory(options.history);
    this.backoff = new Backoff(options.backoff?.minMs ?? 1_000, options.backoff?.maxMs ?? 60_000, options.backoff?.random);
    this.command = options.command ?? 'nvidia-smi';
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? GLOBAL_TIMERS;
    if (options.onSample !== undefined) this.listeners.add(options.onSample);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.spawnChild();
  }

  /** Stops the child (SIGTERM, then SIGKILL) and any pending restart. Samples stay readable. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    if (this.restartTimer !== null) this.timers.clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.nextRestartAt = null;
    const child = this.child;
    const done = this.childDone;
    if (child === null || done === null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), this.options.killAfterMs ?? 2_000);
    await done;
    clearTimeout(killer);
  }

  /** The newest sample of each GPU. */
  latest(): Map<string, Sample> {
    return this.history.latest();
  }

  summarize(fromMs: number, toMs: number): GpuWindow[] {
    return this.history.summarize(fromMs, toMs);
  }

  energyMj(uuid: string, fromMs: number, toMs: number): number | null {
    return this.history.energyMj(uuid, fromMs, toMs);
  }

  /** Calls `fn` for every sample until the returned function is called. */
  subscribe(fn: (sample: Sample) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  state(): TelemetryState {
    return {
      running: this.child !== null,
      pid: this.child?.pid ?? null,
      restarts: Math.max(0, this.restarts),
      samplesThisRun: this.samplesThisRun,
      samplesTotal: this.samplesTotal,
      badLines: this.badLines,
      fields: this.fieldSet,
      lastFailure: this.lastFailure,
      nextRestartAt: this.nextRestartAt,
    };
  }

  private spawnChild(): void {
    this.restartTimer = null;
    this.nextRestartAt = null;
    this.restarts++;
    this.samplesThisRun = 0;
    const log = this.options.logger;
    const fields = this.fieldSet === 'current' ? QUERY_FIELDS : LEGACY_QUERY_FIELDS;
    const startedAt = performance.now();
    const child = spawn(this.command, queryArgs(fields, this.options.intervalMs), { stdio: ['ignore', 'pipe', 'pipe'], env: this.options.env ?? process.env });
    this.child = child;
    let stderr = '';
    const badLines: string[] = [];
    let spawnError: string | undefined;

    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-KEEP_STDERR);
    });
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line, badLines));
    this.childDone = new Promise<void>((resolve) => {
      let ended = false;
      const end = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
        if (ended) return;
        ended = true;
        this.child = null;
        this.childDone = null;
        resolve();
        this.onChildEnd({ exitCode, signal, spawnError, stderr, badLines, livedMs: performance.now() - startedAt });
      };
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = e.code ?? e.message;
        // A child that never started emits no 'close' on some Node versions.
        if (child.pid === undefined) end(null, null);
      });
      child.on('close', (code, signal) => end(code, signal));
    });
    log.info({ pid: child.pid, intervalMs: this.options.intervalMs, fields: this.fieldSet }, 'telemetry: nvidia-smi started');
  }

  private onLine(line: string, badLines: string[]): void {
    if (line.trim() === '') return;
    const r = parseTelemetryLine(line, this.now());
    if (!r.ok) {
      this.badLines++;
      if (badLines.length < KEEP_BAD_LINES) badLines.push(line.slice(0, 300));
      if (badLines.length === 1) this.options.logger.warn({ reason: r.reason, remote: { line: line.slice(0, 300) } }, 'telemetry: unreadable nvidia-smi line');
      return;
    }
    this.samplesThisRun++;
    this.samplesTotal++;
    this.history.add(r.sample);
    for (const fn of this.listeners) {
      try {
        fn(r.sample);
      } catch (e) {
        this.options.logger.error({ err: e }, 'telemetry: a sample listener threw');
      }
    }
  }

  private onChildEnd(end: { exitCode: number | null; signal: NodeJS.Signals | null; spawnError: string | undefined; stderr: string; badLines: string[]; livedMs: number }): void {
    const log = this.options.logger;
    if (this.stopping) {
      log.info('telemetry: nvidia-smi stopped');
      return;
    }
    const said = `${end.badLines.join('\n')}\n${end.stderr}`;
    if (this.fieldSet === 'current' && /Field "?clocks_event_reasons\.active"? is not a valid field to query/i.test(said)) {
      // A driver older than 530: ask again with the throttle-reason field name, at once.
      this.fieldSet = 'legacy';
      log.info('telemetry: this driver predates clock event reasons; using clocks_throttle_reasons');
      this.spawnChild();
      return;
    }
    const [failure] = diagnoseSmiFailure({ stdout: end.badLines.join('\n'), stderr: end.stderr, exitCode: end.exitCode, spawnError: end.spawnError }, 'nvidia-smi telemetry');
    this.lastFailure = failure ?? null;
    if (end.livedMs >= (this.options.stableMs ?? 60_000)) this.backoff.reset();
    const delay = this.backoff.next();
    this.nextRestartAt = this.now() + delay;
    log.warn({ exitCode: end.exitCode, signal: end.signal, spawnError: end.spawnError, restartInMs: delay, reason: failure?.message }, 'telemetry: nvidia-smi ended; restarting');
    this.restartTimer = this.timers.setTimeout(() => this.spawnChild(), delay);
  }
}

/** createTelemetry(options) is `new Telemetry(options)`. */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  return new Telemetry(options);
}
