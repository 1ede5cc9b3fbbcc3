/**
 * What every workload kind gives the runner: a started execution it can
 * wait for and kill. The runner owns the lifecycle (deadline, cancel,
 * metering, reporting); a backend only knows how to run one kind.
 */
import type { JobSpec } from './policy.js';

/** The device a job holds: a GPU (uuid and ordinal) or the CPU of a machine without one. */
export type JobDevice = { uuid: string; index: number } | { uuid: 'cpu'; index: 'cpu' };

export interface JobContext {
  job: string;
  device: JobDevice;
  /** Where the job's kept output goes (0600). */
  logFile: string;
}

export interface ExecutionResult {
  /** The process's exit code; 0 for an in-process kind that succeeded; null when killed or never started. */
  exitCode: number | null;
  /** SHA-256 (hex) of the job's output (stdout, or the PoT root); null when the kind has no deterministic output. */
  outputSha256: string | null;
  /** Why it failed to run at all (spawn failed, engine error): the job ends failed with this reason. */
  error: string | null;
}

export interface Execution {
  /** The process leader, for the state file (null for an in-process kind). */
  pid: number | null;
  startTime: number | null;
  done: Promise<ExecutionResult>;
  kill(graceMs: number): Promise<void>;
}

export type Backend<S extends JobSpec = JobSpec> = (spec: S, ctx: JobContext) => Execution;

export interface Backends {
  pot: Backend<Extract<JobSpec, { workload: 'pot' }>>;
  bench: Backend<Extract<JobSpec, { workload: 'bench' }>>;
  exec: Backend<Extract<JobSpec, { workload: 'exec' }>>;
  container: Backend<Extract<JobSpec, { workload: 'container' }>>;
}
