/**
 * The generator's worker processes, seen from the parent: forks them, hands
 * out agents in blocks (agent g goes to coordinator g mod C, so the whole
 * fleet is round-robin whatever the worker count), and adds up what they
 * report, per phase. A phase ends only once every worker has sent its last
 * report for it, so nothing is counted in the wrong phase.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Histogram } from './histogram.js';
import type { CoordinatorTarget, FromWorker, ToWorker, WorkerReport } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
const REPLY_TIMEOUT_MS = 30_000;

export interface PhaseFigures {
  name: string;
  /** performance.now() when the phase began and ended (null while under way). */
  startedAt: number;
  endedAt: number | null;
  sent: number;
  acked: number;
  reconnects: number;
  failures: Record<string, number>;
  latency: Histogram;
  /** The fewest authenticated connections seen while the phase was under way (null: no report yet). */
  connectedMin: number | null;
  /** CPU time the workers used in the phase (µs). */
  workerCpuUs: number;
}

export function seconds(p: PhaseFigures): number {
  return ((p.endedAt ?? performance.now()) - p.startedAt) / 1000;
}

/** Adds counts by kind into `into`; returns it. */
export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): Record<string, number> {
  for (const [kind, n] of Object.entries(from)) into[kind] = (into[kind] ?? 0) + n;
  return into;
}

export function failureTotal(p: PhaseFigures): number {
  return Object.values(p.failures).reduce((a, b) => a + b, 0);
}

interface Worker {
  child: ChildProcess;
  latest: WorkerReport | null;
  /** Resolved by the next boundary (or final) report. */
  waiting: (() => void) | null;
  exited: Promise<void>;
}

/** What happened since the last takeWindow(), whatever the phase: for timelines and progress lines. */
export interface Window {
  seconds: number;
  acked: number;
  failures: number;
  latency: Histogram;
}

export class Fleet {
  private readonly phases = new Map<string, PhaseFigures>();
  private current: PhaseFigures;
  private window: Window = { seconds: 0, acked: 0, failures: 0, latency: new Histogram() };
  private windowStart = performance.now();
  private nextIndex = 0;

  private constructor(
    private readonly workers: Worker[],
    private readonly coordinators: number,
  ) {
    this.current = this.newPhase('idle');
  }

  /** Forks the workers and waits until each is ready. */
  static async start(count: number, start: { coordinators: CoordinatorTarget[]; intervalMs: number; reportMs: number }): Promise<Fleet> {
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      workers.push({ child, latest: null, waiting: null, exited });
      ready.push(
        new Promise((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`load worker ${i} exited with ${code} before it was ready`)));
        }),
      );
      child.send({ t: 'start', ...start } satisfies ToWorker);
    }
    const fleet = new Fleet(workers, start.coordinators.length);
    workers.forEach((w) => w.child.on('message', (m: FromWorker) => fleet.onMessage(w, m)));
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) w.child.kill('SIGKILL');
      throw e;
    }
    return fleet;
  }

  /** Connects `count` more agents at `perSec` a second in all, spread evenly over the workers. */
  add(count: number, perSec: number): void {
    const n = this.workers.length;
    for (let i = 0; i < n; i++) {
      const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
      if (share === 0) continue;
      this.send(this.workers[i] as Worker, { t: 'add', count: share, firstIndex: this.nextIndex, perSec: perSec / n });
      this.nextIndex += share;
    }
  }

  /** Ends the phase under way (waiting for every worker's last report of it) and starts the next, which it returns. */
  async phase(name: string): Promise<PhaseFigures> {
    const ending = this.current;
    // Registered first: a worker may report under the new name before the others have closed the old one.
    const next = this.newPhase(name);
    ending.endedAt = next.startedAt;
    await Promise.all(this.workers.map((w) => this.untilBoundary(w, () => this.send(w, { t: 'phase', name }))));
    this.current = next;
    return next;
  }

  /** Closes every connection and waits for the workers to exit; returns the phase that was under way. */
  async stop(): Promise<PhaseFigures> {
    const ending = this.current;
    ending.endedAt = performance.now();
    await Promise.all(this.workers.map((w) => this.untilBoundary(w, () => this.send(w, { t: 'stop' }))));
    await Promise.all(this.workers.map((w) => Promise.race([w.exited, new Promise((r) => setTimeout(r, REPLY_TIMEOUT_MS).unref())])));
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    return ending;
  }

  /** The counts since the last call (or the start), and starts a new window. */
  takeWindow(): Window {
    const now = performance.now();
    const w = { ...this.window, seconds: (now - this.windowStart) / 1000 };
    this.window = { seconds: 0, acked: 0, failures: 0, latency: new Histogram() };
    this.windowStart = now;
    return w;
  }

  /** Authenticated connections now (each worker's latest report), by coordinator index. */
  connectedBy(): number[] {
    const out = Array.from({ length: this.coordinators }, () => 0);
    for (const w of this.workers) w.latest?.connected.forEach((c, i) => (out[i] = (out[i] ?? 0) + c));
    return out;
  }

  connected(): number {
    return this.connectedBy().reduce((a, b) => a + b, 0);
  }

  /** The workers' resident memory now (bytes). */
  rss(): number {
    return this.workers.reduce((a, w) => a + (w.latest?.rss ?? 0), 0);
  }

  private newPhase(name: string): PhaseFigures {
    const p: PhaseFigures = { name, startedAt: performance.now(), endedAt: null, sent: 0, acked: 0, reconnects: 0, failures: {}, latency: new Histogram(), connectedMin: null, workerCpuUs: 0 };
    this.phases.set(name, p);
    return p;
  }

  private send(w: Worker, m: ToWorker): void {
    if (w.child.connected) w.child.send(m);
  }

  private untilBoundary(w: Worker, ask: () => void): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, REPLY_TIMEOUT_MS);
      function done(): void {
        clearTimeout(timer);
        w.waiting = null;
        resolve();
      }
      w.waiting = done;
      void w.exited.then(done);
      ask();
    });
  }

  private onMessage(w: Worker, m: FromWorker): void {
    if (m.t !== 'report') return;
    w.latest = m;
    const p = this.phases.get(m.phase) ?? this.newPhase(m.phase);
    p.sent += m.sent;
    p.acked += m.acked;
    p.reconnects += m.reconnects;
    p.workerCpuUs += m.cpuUs;
    addCounts(p.failures, m.failures);
    p.latency.merge(m.latency, m.latencyMax);
    this.window.acked += m.acked;
    this.window.failures += Object.values(m.failures).reduce((a, b) => a + b, 0);
    this.window.latency.merge(m.latency, m.latencyMax);
    if (p === this.current && this.workers.every((x) => x.latest !== null)) {
      const now = this.connected();
      p.connectedMin = p.connectedMin === null ? now : Math.min(p.connectedMin, now);
    }
    if (m.boundary || m.final) w.waiting?.();
  }
}
