/**
 * The runner's durable memory (jobs.json in the data dir, replaced
 * atomically): the jobs running now, with the process that runs each and
 * when it was last seen alive, and finished jobs whose usage record could
 * not be journaled yet. After a crash or a restart this is how the agent
 * learns that a job was cut short, kills what it left running, and still
 * signs the usage it owes.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CapanodeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/keyfile.js';
import { UsageBodySchema, WORKLOAD_KINDS, type UsageBody } from '../../proofs/envelope.js';
import { JOB_STATES, type JobUpdate } from '../../proofs/messages.js';

const ms = z.number().int().min(0);

const RunningJobSchema = z.strictObject({
  job: z.string(),
  workload: z.enum(WORKLOAD_KINDS),
  device: z.string(),
  state: z.enum(['accepted', 'running']),
  startedAt: ms,
  /** The last time this agent knew the job alive. */
  aliveAt: ms,
  deadlineAt: ms,
  pid: z.number().int().nullable(),
  startTime: z.number().int().nullable(),
});

const FinishedJobSchema = z.strictObject({
  job: z.string(),
  state: z.enum(JOB_STATES),
  reason: z.string().max(256).nullable(),
  /** Journaled: the record's seq. Not yet: the body waits here. */
  usageSeq: z.number().int().nullable(),
  usage: UsageBodySchema.nullable(),
});

export const JobsFileSchema = z.strictObject({
  v: z.literal(1),
  running: z.array(RunningJobSchema),
  /** Jobs whose usage record is not journaled yet, oldest first. */
  owed: z.array(FinishedJobSchema),
});

export type RunningJob = z.infer<typeof RunningJobSchema>;
export type OwedJob = z.infer<typeof FinishedJobSchema> & { usage: UsageBody | null; state: JobUpdate['state'] };
export type JobsFile = z.infer<typeof JobsFileSchema>;

export const EMPTY_JOBS: JobsFile = { v: 1, running: [], owed: [] };

export function readJobsFile(path: string): JobsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ...EMPTY_JOBS, running: [], owed: [] };
    throw new CapanodeError('io-error', `cannot read the job state file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Check the data directory\'s owner and permissions.', cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CapanodeError('job-state-invalid', `the job state file ${path} is not JSON`, { hint: `Move it aside (the agent then forgets jobs that were running) and start again: mv ${path} ${path}.bad`, cause: e });
  }
  const parsed = JobsFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new CapanodeError('job-state-invalid', `the job state file ${path} is not in the expected format: ${parsed.error.issues[0]?.message ?? ''}`, {
      hint: `Move it aside (the agent then forgets jobs that were running) and start again: mv ${path} ${path}.bad`,
    });
  }
  return parsed.data;
}

export function writeJobsFile(path: string, file: JobsFile): void {
  writeFileAtomic(path, `${JSON.stringify(file)}\n`, { mode: 0o600, overwrite: true });
}
