/**
 * Judging a usage record (DESIGN §4) against the job it names. Pure. A
 * record is work only if this coordinator assigned that job to that node,
 * it ran inside the job's window (by the coordinator's clock, allowing for
 * the node's measured skew), on a device the node reported, and the energy
 * it claims is physically possible: at most the GPU's power limit (as the
 * node reported it, capped by the coordinator's ceiling) for the time it ran. The record itself stays in the node's chain either way;
 * a refusal only means it earns nothing.
 */
import type { UsageBody } from '../../proofs/envelope.js';
import type { Inventory } from '../../proofs/messages.js';
import type { JobRow, UsageVerdict } from '../store/job-types.js';

export interface UsageLimits {
  /** Most a GPU can draw (W): the ceiling over any power limit a node reports (the report is the node's word). */
  maxGpuPowerW: number;
  /** Most a CPU-only job's host can draw (W). */
  maxCpuPowerW: number;
  /** Tolerance on the job's window for clocks and transit (ms). */
  slackMs: number;
}

export interface UsageContext {
  node: string;
  /** The node's clock minus the coordinator's (ms), when measured. */
  skewMs: number | null;
  inventory: Inventory | null;
  limits: UsageLimits;
}

export function judgeUsage(job: JobRow | null, usage: UsageBody, ctx: UsageContext): UsageVerdict {
  const refuse = (code: Extract<UsageVerdict, { accepted: false }>['code'], reason: string): UsageVerdict => ({ accepted: false, code, reason });
  if (job === null || job.assignedAt === null) return refuse('usage-unknown-job', `job ${usage.job} was never assigned by this coordinator`);
  if (job.node !== ctx.node) return refuse('usage-wrong-node', `job ${usage.job} was assigned to another node`);
  if (job.usageAt !== null) return refuse('usage-duplicate', `job ${usage.job} already has a usage record (seq ${String(job.usageSeq)})`);
  if (usage.workload !== job.workload) return refuse('usage-workload', `job ${usage.job} is a ${job.workload} job, the record says ${usage.workload}`);
  // The node's times, moved onto the coordinator's clock.
  const skew = ctx.skewMs ?? 0;
  const started = usage.startedAt - skew;
  const ended = usage.endedAt - skew;
  const { slackMs } = ctx.limits;
  if (usage.endedAt < usage.startedAt) return refuse('usage-outside-window', `ends (${usage.endedAt}) before it starts (${usage.startedAt})`);
  if (started < job.assignedAt - slackMs) return refuse('usage-outside-window', `starts ${job.assignedAt - started} ms before the job was assigned`);
  const latest = job.assignedAt + job.deadlineMs + slackMs;
  if (ended > latest) return refuse('usage-outside-window', `ends ${ended - latest} ms after the job's deadline`);
  const wall = usage.endedAt - usage.startedAt;
  if (usage.gpuMs > wall) return refuse('usage-outside-window', `claims ${usage.gpuMs} device-ms in ${wall} ms on one device`);
  let ceilingW: number;
  if (usage.device === 'cpu') ceilingW = ctx.limits.maxCpuPowerW;
  else {
    const gpu = ctx.inventory?.gpus.find((g) => g.uuid === usage.device);
    if (gpu === undefined) return refuse('usage-device', `device ${usage.device} is not among the GPUs the node reported`);
    // The GPU's own power limit, as the node reported it, never above the coordinator's ceiling.
    ceilingW = Math.min(ctx.limits.maxGpuPowerW, gpu.powerLimitW ?? ctx.limits.maxGpuPowerW);
  }
  // W x ms = mJ.
  const ceilingMj = ceilingW * wall;
  if (usage.energyMj > ceilingMj) return refuse('usage-energy', `claims ${usage.energyMj} mJ in ${wall} ms: more than ${ceilingW} W could draw (${ceilingMj} mJ)`);
  return { accepted: true };
}
