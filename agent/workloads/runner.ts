/**
 * Runs what the coordinator assigns, one job per device: assignment ->
 * accepted or rejected (with a reason) -> running -> done, failed, timeout
 * or cancelled. Each job that ran ends in a usage attestation (DESIGN §4):
 * device-milliseconds by the agent's clock and the energy its GPU drew over
 * the job's window, from the power telemetry.
 *
 * The state file is written before each step is reported, so a crash at any
 * point leaves either a running job (reported failed, `agent-restarted`,
 * after killing what it left behind) or a finished job whose usage is still
 * owed (journaled at the next chance): paid work is never forgotten.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { UsageBody } from '../../proofs/envelope.js';
import type { Assign, Cancel, JobUpdate } from '../../proofs/messages.js';
import type { Backends, Execution, ExecutionResult, JobDevice } from './backend.js';
import { decide, type JobSpec, type WorkloadPolicy } from './policy.js';
import { readJobsFile, writeJobsFile, type OwedJob, type RunningJob } from './state.js';
import { killStray } from './tree.js';

export interface WorkloadPorts {
  /** The GPUs jobs may use; none: jobs run on the CPU, one at a time. */
  devices(): readonly { uuid: string; index: number }[];
  /** Energy one GPU used over a window (mJ); null when unknown. */
  energyMj(uuid: string, fromMs: number, toMs: number): number | null;
  /** Signs and journals a usage attestation; resolves with its seq once committed. Rejects when the journal cannot be written. */
  appendUsage(body: UsageBody): Promise<number>;
  /** Tells the coordinator (never throws; the link queues while disconnected). */
  sendUpdate(update: Omit<JobUpdate, 't'>): void;
}

export interface JobRunnerOptions {
  policy: WorkloadPolicy;
  /** jobs.json in the data dir. */
  stateFile: string;
  /** Where each job's kept output goes (<job>.log). */
  logDir: string;
  ports: WorkloadPorts;
  backends: Backends;
  logger: Logger;
  now?: () => number;
  /** How often a running job's liveness is written down (the bound on what a crash can lose). */
  aliveIntervalMs?: number;
  /** Between TERM and KILL when a job is stopped. */
  killGraceMs?: number;
}

export interface JobStatus {
  job: string;
  workload: string;
  state: string;
  device: string;
  startedAt: number;
}

type EndReason = { state: 'timeout' | 'cancelled' | 'failed'; reason: string };

interface Active {
  assign: Assign;
  device: JobDevice;
  state: 'accepted' | 'running';
  startedAt: number;
  aliveAt: number;
  deadlineAt: number;
  execution: Execution | null;
  timer: NodeJS.Timeout | null;
  end: EndReason | null;
}

/** Jobs remembered after they end, so a repeated assign is answered, not run twice. */
const RECENT_JOBS = 1024;

export class JobRunner {
  private readonly o: JobRunnerOptions;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly active = new Map<string, Active>();
  private owed: OwedJob[] = [];
  private readonly recent = new Map<string, Omit<JobUpdate, 't'>>();
  private aliveTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private settling: Promise<void> | null = null;
  /** Calls of settle(): a pass repeats while it grew. */
  private settleCalls = 0;

  constructor(options: JobRunnerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.log = options.logger;
  }

  /** Settles what the last run left (kills its strays, owes `agent-restarted`), then takes work. */
  start(): void {
    mkdirSync(this.o.logDir, { recursive: true, mode: 0o700 });
    const file = readJobsFile(this.o.stateFile);
    this.owed = file.owed;
    for (const r of file.running) {
      const killed = r.pid !== null && killStray(r.pid, r.startTime, r.job);
      this.log.warn({ job: r.job, workload: r.workload, killedStray: killed }, 'a job was running when the agent stopped: reporting it failed (agent-restarted)');
      this.owed.push({ job: r.job, state: 'failed', reason: 'agent-restarted', usageSeq: null, usage: r.state === 'running' ? this.usageOf(r, Math.max(r.startedAt, r.aliveAt), null, null) : null });
    }
    this.persist();
    void this.settle();
    this.aliveTimer = setInterval(() => {
      const at = this.now();
      for (const a of this.active.values()) a.aliveAt = at;
      this.persist();
      void this.settle();
    }, this.o.aliveIntervalMs ?? 30_000);
    this.aliveTimer.unref();
  }

  jobs(): JobStatus[] {
    return [...this.active.values()].map((a) => ({ job: a.assign.job, workload: a.assign.workload, state: a.state, device: a.device.uuid, startedAt: a.startedAt }));
  }

  /** Never throws: whatever is wrong with an assignment becomes a `rejected` update with the reason. */
  assign(assign: Assign): void {
    const id = assign.job;
    const known = this.active.get(id);
    if (known !== undefined) return this.o.ports.sendUpdate({ job: id, state: known.state, reason: null, usageSeq: null });
    const before = this.recent.get(id) ?? this.owed.find((j) => j.job === id);
    if (before !== undefined) return this.o.ports.sendUpdate({ job: id, state: before.state, reason: before.reason, usageSeq: before.usageSeq });
    const reject = (reason: string) => {
      this.log.info({ job: id, workload: assign.workload, reason }, 'job rejected');
      this.remember({ job: id, state: 'rejected', reason, usageSeq: null });
      this.o.ports.sendUpdate({ job: id, state: 'rejected', reason, usageSeq: null });
    };
    if (this.stopping) return reject('the agent is stopping');
    const decision = decide(assign, this.o.policy);
    if (!decision.ok) return reject(decision.reason);
    const device = this.freeDevice();
    if (device === null) return reject(`busy: every device runs a job (${[...this.active.keys()].join(', ')})`);
    const at = this.now();
    const a: Active = { assign, device, state: 'accepted', startedAt: at, aliveAt: at, deadlineAt: at + assign.deadlineMs, execution: null, timer: null, end: null };
    this.active.set(id, a);
    this.persist();
    this.o.ports.sendUpdate({ job: id, state: 'accepted', reason: null, usageSeq: null });
    this.run(a, decision.spec);
  }

  cancel(cancel: Cancel): void {
    const a = this.active.get(cancel.job);
    if (a === undefined) {
      this.log.info({ job: cancel.job }, 'cancel for a job not running here: ignored');
      return;
    }
    this.log.info({ job: cancel.job, reason: cancel.reason }, 'job cancelled by the coordinator');
    this.end(a, { state: 'cancelled', reason: `cancelled by the coordinator: ${cancel.reason}`.slice(0, 256) });
  }

  /** Stops taking work; running jobs get graceMs to finish, then are killed (failed, agent-stopping). */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const running = [...this.active.values()];
    if (running.length > 0) {
      this.log.info({ jobs: running.map((a) => a.assign.job), graceMs }, 'waiting for running jobs before stopping');
      const all = Promise.all(running.map((a) => a.execution?.done ?? Promise.resolve()));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      for (const a of this.active.values()) this.end(a, { state: 'failed', reason: 'agent-stopping' });
      await Promise.all([...this.active.values()].map((a) => a.execution?.done ?? Promise.resolve()));
      // Let each job's completion handler record it.
      await new Promise((r) => setImmediate(r));
    }
    if (this.aliveTimer !== null) clearInterval(this.aliveTimer);
    this.aliveTimer = null;
    await this.settle();
  }

  private freeDevice(): JobDevice | null {
    const busy = new Set([...this.active.values()].map((a) => a.device.uuid));
    const gpus = this.o.ports.devices();
    if (gpus.length === 0) return busy.has('cpu') ? null : { uuid: 'cpu', index: 'cpu' };
    const free = gpus.find((g) => !busy.has(g.uuid));
    return free === undefined ? null : { uuid: free.uuid, index: free.index };
  }

  private run(a: Active, spec: JobSpec): void {
    const ctx = { job: a.assign.job, device: a.device, logFile: join(this.o.logDir, `${a.assign.job}.log`) };
    let execution: Execution;
    try {
      execution = this.launch(spec, ctx);
    } catch (e) {
      this.finish(a, { exitCode: null, outputSha256: null, error: `could not start: ${describeError(e)}` });
      return;
    }
    a.execution = execution;
    a.state = 'running';
    a.timer = setTimeout(() => this.end(a, { state: 'timeout', reason: `ran past its deadline of ${a.assign.deadlineMs} ms` }), Math.max(0, a.deadlineAt - this.now()));
    this.persist();
    this.o.ports.sendUpdate({ job: a.assign.job, state: 'running', reason: null, usageSeq: null });
    this.log.info({ job: a.assign.job, workload: a.assign.workload, device: a.device.uuid, pid: execution.pid }, 'job running');
    execution.done.then(
      (result) => this.finish(a, result),
      (e: unknown) => this.finish(a, { exitCode: null, outputSha256: null, error: describeError(e) }),
    );
  }

  private launch(spec: JobSpec, ctx: { job: string; device: JobDevice; logFile: string }): Execution {
    const b = this.o.backends;
    switch (spec.workload) {
      case 'pot':
        return b.pot(spec, ctx);
      case 'bench':
        return b.bench(spec, ctx);
      case 'exec':
        return b.exec(spec, ctx);
      case 'container':
        return b.container(spec, ctx);
    }
  }

  /** Ends a job early (timeout, cancel, shutdown): kills its tree; finish() records it when the execution settles. */
  private end(a: Active, why: EndReason): void {
    if (a.end !== null) return;
    a.end = why;
    if (a.execution === null) return;
    a.execution.kill(this.o.killGraceMs ?? 2_000).catch((e: unknown) => this.log.error({ job: a.assign.job, err: describeError(e) }, 'could not kill the job'));
  }

  private finish(a: Active, result: ExecutionResult): void {
    const id = a.assign.job;
    if (this.active.get(id) !== a) return;
    if (a.timer !== null) clearTimeout(a.timer);
    this.active.delete(id);
    const endedAt = Math.max(a.startedAt, this.now());
    let state: OwedJob['state'];
    let reason: string | null;
    if (a.end !== null) ({ state, reason } = a.end);
    else if (result.error !== null) [state, reason] = ['failed', result.error.slice(0, 256)];
    else if (result.exitCode === 0) [state, reason] = ['done', null];
    else [state, reason] = ['failed', `exited with code ${String(result.exitCode)}`];
    // A killed job's output is partial: no digest to compare.
    const digest = a.end === null ? result.outputSha256 : null;
    const usage = this.usageOf({ job: id, workload: a.assign.workload, device: a.device.uuid, startedAt: a.startedAt }, endedAt, result.exitCode, digest);
    this.log.info({ job: id, state, reason, gpuMs: usage.gpuMs, energyMj: usage.energyMj }, 'job ended');
    this.owed.push({ job: id, state, reason, usageSeq: null, usage });
    this.persist();
    void this.settle();
  }

  private usageOf(j: Pick<RunningJob, 'job' | 'workload' | 'device' | 'startedAt'>, endedAt: number, exitCode: number | null, outputSha256: string | null): UsageBody {
    const device = j.device === 'cpu' ? 'cpu' : j.device;
    const energy = device === 'cpu' ? 0 : (this.o.ports.energyMj(device, j.startedAt, endedAt) ?? 0);
    return { job: j.job, workload: j.workload, device, startedAt: j.startedAt, endedAt, gpuMs: endedAt - j.startedAt, energyMj: Math.max(0, Math.round(energy)), exitCode, outputSha256 };
  }

  /**
   * Journals owed usage records in order and reports each job; stops at the
   * first that cannot be journaled (the next try is on the alive timer). One
   * pass at a time: a call during a pass runs another pass after it.
   */
  private settle(): Promise<void> {
    this.settleCalls += 1;
    this.settling ??= this.settlePasses();
    return this.settling;
  }

  private async settlePasses(): Promise<void> {
    try {
      for (;;) {
        const seen = this.settleCalls;
        await this.settleOwed();
        // Cleared in the same step as this check: a settle() after it starts a new pass.
        if (this.settleCalls === seen) return;
      }
    } finally {
      this.settling = null;
    }
  }

  private async settleOwed(): Promise<void> {
    while (this.owed.length > 0) {
      const j = this.owed[0];
      if (j === undefined) break;
      if (j.usage !== null && j.usageSeq === null) {
        try {
          j.usageSeq = await this.o.ports.appendUsage(j.usage);
        } catch (e) {
          this.log.warn({ job: j.job, err: describeError(e) }, 'cannot journal the job\'s usage yet: kept, retried later');
          return;
        }
      }
      // One write per settled job: once the usage is journaled the job leaves the owed list, so a restart never signs it twice.
      this.owed.shift();
      this.remember({ job: j.job, state: j.state, reason: j.reason, usageSeq: j.usageSeq });
      this.persist();
      this.o.ports.sendUpdate({ job: j.job, state: j.state, reason: j.reason, usageSeq: j.usageSeq });
    }
  }

  private remember(update: Omit<JobUpdate, 't'>): void {
    this.recent.set(update.job, update);
    if (this.recent.size > RECENT_JOBS) {
      const oldest = this.recent.keys().next();
      if (oldest.done !== true) this.recent.delete(oldest.value);
    }
  }

  private persist(): void {
    const running: RunningJob[] = [...this.active.values()].map((a) => ({
      job: a.assign.job,
      workload: a.assign.workload,
      device: a.device.uuid,
      state: a.state,
      startedAt: a.startedAt,
      aliveAt: a.aliveAt,
      deadlineAt: a.deadlineAt,
      pid: a.execution?.pid ?? null,
      startTime: a.execution?.startTime ?? null,
    }));
    try {
      writeJobsFile(this.o.stateFile, { v: 1, running, owed: this.owed });
    } catch (e) {
      // A full disk must not stop running jobs; the next write tries again.
      this.log.error({ err: describeError(e), file: this.o.stateFile }, 'cannot write the job state file');
    }
  }
}
